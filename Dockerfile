# tickforge: one image for every process (web, worker, scheduler, migrate); compose.yaml
# picks the command. Build: docker build -t tickforge .

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts run after the sources are in place (`prepare` builds them).
RUN npm ci --ignore-scripts
COPY tsconfig.json knexfile.ts ./
COPY src src
COPY jobs jobs
COPY workers workers
COPY migrations migrations
RUN npm run build \
 # The image talks to the PostgreSQL and Redis it is given: no dev tools, no embedded PostgreSQL.
 && npm prune --omit=dev --omit=optional

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 3000
# The web process; the worker, scheduler and migrate services override the command.
CMD ["node", "dist/src/api/main.js"]
