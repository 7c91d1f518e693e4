# Multi-stage build on the official Node LTS slim image. Every RUN step here is a
# command .ci/run also runs (npm ci, npm run build, npm prune --omit=dev), so CI
# exercises the same steps even where no Docker engine is available.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Toolchain for native modules (sqlite3) when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    STORE_URL=sqlite:///data/chatbot.sqlite
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Static files of the chat page are read at run time from adapters/web/page.
COPY --from=build /app/adapters/web/page ./adapters/web/page
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Without WEB_API_KEY the server listens on 127.0.0.1 only; set WEB_API_KEY (or
# HOST=0.0.0.0 behind an authenticating proxy) to reach it from outside.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
