# meshserve image: one image, one actor process per container; the compose file picks the
# subcommand (planner, dispatcher, worker, repl, status).
FROM node:20-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA libraries: package.json's allowScripts
# denies it on npm >= 11.16; the variable skips it on the older npm of this image.
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY bus ./bus
COPY planner ./planner
COPY serving ./serving
COPY modelgen ./modelgen
COPY ops ./ops
COPY dev ./dev
COPY config ./config
COPY bench ./bench
COPY scripts ./scripts
COPY examples ./examples
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production LOG_LEVEL=info
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/examples ./examples
USER node
ENTRYPOINT ["node", "dist/scripts/meshserve.js"]
CMD ["--help"]
