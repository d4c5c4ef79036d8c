// Device and model names in the order people expect: gpu-2 before gpu-10, bert-1.3b-2 before
// bert-1.3b-10 (a plain string sort puts them the other way round).

export function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}
