#!/usr/bin/env python3
"""Send one inference request to meshserve from Python with nothing but the standard library.

It speaks the NATS text protocol itself (CONNECT, SUB, HPUB, HMSG) and the public request
protocol in JSON (header content-type: application/json), so it shows what any client in any
language has to do. A real application would use a NATS client library (nats-py) instead.

  python3 examples/python_client.py [--url nats://[user:pass@]host:4222[,nats://host2:4222…]] [--slo 1.0]
                                    [--input JSON | --tensor SHAPE] [--timeout 10] MODEL

Without --url it uses $NATS_URL, else the cluster a running `meshserve start` recorded in
.meshserve/cluster.json in this directory or one above it.

--tensor 1,16,32 sends a float32 tensor of that shape (all 0.5) with its bytes in base64, for a
model served by ONNX workers, and prints the output tensor's shape and first values.
Prints the reply as JSON; exit 0 when the status is ok, 1 for rejected / error, 2 on usage or
connection problems.
"""
import argparse
import base64
import json
import os
import socket
import struct
import sys
import time
from urllib.parse import unquote, urlsplit


def recorded_cluster(start):
    """The NATS URL of the `meshserve start` recorded in .meshserve/cluster.json here or above.

    Returns (url, None), or (None, why) when the record is stale or unreadable, or (None, None)
    when there is none."""
    directory = os.path.abspath(start)
    while True:
        path = os.path.join(directory, '.meshserve', 'cluster.json')
        if os.path.exists(path):
            try:
                with open(path) as f:
                    record = json.load(f)
                url, pid, host = record['natsUrl'], int(record['pid']), record['host']
            except (OSError, ValueError, KeyError, TypeError) as e:
                return None, '%s is not a cluster record: %s' % (path, e)
            if host == socket.gethostname():
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return None, ('the cluster recorded in %s is gone: the `meshserve start` that wrote it '
                                  '(pid %d) no longer runs. Start one again (npm start), or pass --url' % (path, pid))
                except PermissionError:
                    pass  # alive, another user's
            return url, None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None, None
        directory = parent


def connect(urls, timeout):
    # NATS_URL may list several servers (a cluster), comma-separated: the first that answers is used.
    failures = []
    for url in [u.strip() for u in urls.split(',') if u.strip()]:
        try:
            return connect_one(url, timeout)
        except (OSError, ConnectionError) as e:
            failures.append('%s: %s' % (urlsplit(url if '://' in url else 'nats://' + url).netloc.rpartition('@')[2], e))
    raise ConnectionError('; '.join(failures) or 'no server given')


def connect_one(url, timeout):
    parts = urlsplit(url if '://' in url else 'nats://' + url)
    sock = socket.create_connection((parts.hostname or '127.0.0.1', parts.port or 4222), timeout=timeout)
    reader = sock.makefile('rb')
    info = reader.readline()
    if not info.startswith(b'INFO '):
        raise ConnectionError('not a NATS server: %r' % info[:40])
    options = {'verbose': False, 'pedantic': False, 'headers': True, 'no_responders': True, 'protocol': 1,
               'lang': 'python-stdlib', 'version': '1', 'name': 'meshserve-python-example'}
    if parts.username is not None:
        if parts.password is None:
            options['auth_token'] = unquote(parts.username)
        else:
            options['user'], options['pass'] = unquote(parts.username), unquote(parts.password)
    # PING after CONNECT: the PONG (or an -ERR such as an authorization violation) tells us where we stand.
    sock.sendall(b'CONNECT ' + json.dumps(options).encode() + b'\r\nPING\r\n')
    line = reader.readline()
    if not line.startswith(b'PONG'):
        raise ConnectionError(line.decode(errors='replace').strip() or 'connection closed')
    return sock, reader


def request(sock, reader, subject, body, deadline):
    inbox = '_INBOX.py%d' % os.getpid()
    headers = b'NATS/1.0\r\ncontent-type: application/json\r\n\r\n'
    sock.sendall(b'SUB %s 1\r\n' % inbox.encode())
    sock.sendall(b'HPUB %s %s %d %d\r\n' % (subject.encode(), inbox.encode(), len(headers), len(headers) + len(body)) + headers + body + b'\r\n')
    while True:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        line = reader.readline()
        if not line:
            raise ConnectionError('connection closed')
        if line.startswith(b'PING'):
            sock.sendall(b'PONG\r\n')
            continue
        if line.startswith(b'-ERR'):
            raise ConnectionError(line.decode(errors='replace').strip())
        fields = line.split()
        if fields[0] == b'MSG':  # no headers: plain payload
            return reader.read(int(fields[-1]) + 2)[:-2]
        if fields[0] == b'HMSG':
            header_len, total = int(fields[-2]), int(fields[-1])
            data = reader.read(total + 2)[:total]
            status = data[:header_len].split(b'\r\n')[0]
            if status.startswith(b'NATS/1.0 503'):
                raise ConnectionError('no responders on %s: is a dispatcher running?' % subject)
            return data[header_len:]


def main():
    p = argparse.ArgumentParser(description='Send one request to meshserve over NATS (standard library only).')
    p.add_argument('model')
    p.add_argument('--url', help='NATS server, or several comma-separated (default: $NATS_URL, else the running '
                   '`meshserve start` found through .meshserve/cluster.json here or above, else nats://127.0.0.1:4222)')
    p.add_argument('--slo', type=float, help='latency objective in seconds')
    p.add_argument('--input', help='input as JSON (passed through by simulated devices)')
    p.add_argument('--tensor', help='send a float32 tensor of this shape, e.g. 1,16,32 (all 0.5), base64 in JSON')
    p.add_argument('--timeout', type=float, default=10.0, help='seconds to wait for the reply (default 10)')
    a = p.parse_args()
    if not a.url:
        a.url = os.environ.get('NATS_URL')
    if not a.url:
        a.url, why = recorded_cluster(os.getcwd())
        if why:
            print('python_client: %s' % why, file=sys.stderr)
            return 2
        a.url = a.url or 'nats://127.0.0.1:4222'

    body = {'id': 'py-%d' % os.getpid()}
    if a.slo is not None:
        body['slo'] = a.slo
    if a.tensor:
        try:
            shape = [int(d) for d in a.tensor.split(',')]
        except ValueError:
            p.error('--tensor takes a shape such as 1,16,32')
        count = 1
        for d in shape:
            count *= d
        body['input'] = {'dtype': 'float32', 'shape': shape, 'data': base64.b64encode(struct.pack('<%df' % count, *([0.5] * count))).decode()}
    elif a.input is not None:
        try:
            body['input'] = json.loads(a.input)
        except ValueError as e:
            p.error('--input is not JSON: %s' % e)

    try:
        sock, reader = connect(a.url, a.timeout)
        reply = json.loads(request(sock, reader, 'ms.infer.' + a.model, json.dumps(body).encode(), time.monotonic() + a.timeout))
        sock.close()
    except (OSError, ConnectionError) as e:
        print('python_client: %s' % (e or 'timed out'), file=sys.stderr)
        return 2
    output = reply.get('output')
    if a.tensor and isinstance(output, dict) and isinstance(output.get('data'), str):
        raw = base64.b64decode(output['data'])
        values = struct.unpack('<%df' % (len(raw) // 4), raw)
        output['data'] = '%d float32 values, first %s' % (len(values), [round(v, 4) for v in values[:4]])
    print(json.dumps(reply))
    return 0 if reply.get('status') == 'ok' else 1


if __name__ == '__main__':
    sys.exit(main())
