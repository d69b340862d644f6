# One image for ingest, processors, api and the migration job (docker-compose picks the command).
# Services run the TypeScript sources with tsx's loader (no build step to drift from the sources).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY core ./core
COPY ingest ./ingest
COPY processors ./processors
COPY api ./api
COPY sql ./sql
COPY scripts/migrate.ts ./scripts/migrate.ts
COPY tsconfig.json ./
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
