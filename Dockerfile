# syntax=docker/dockerfile:1
# The reference gateway as an image, built from this repository:
#   docker build -t mcp-gateway:local .
#   docker run -p 8080:8080 -v mcp-gateway-data:/data -e MCP_GATEWAY__ISSUER=https://mcp.example.com mcp-gateway:local
# Multi-stage, non-root, state in the /data volume, dependencies pinned by package-lock.json and
# installed at build time: starting a container reaches no package registry.
# Stdio MCP servers you want to run from npm are installed at build time too, pinned:
#   docker build --build-arg MCP_SERVER_PACKAGES="@modelcontextprotocol/server-memory@2026.8.31" .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx turbo run build --filter=@mcp-gateway/gateway-kit... --output-logs=errors-only \
 && mkdir /out \
 && for p in oauth-dynamicclient streamablehttp-proxy fetch-server gateway-kit; do \
      mkdir -p /out/$p && cp -r packages/$p/package.json packages/$p/dist /out/$p/ \
      && for d in bin schema; do if [ -d packages/$p/$d ]; then cp -r packages/$p/$d /out/$p/; fi; done; \
    done

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Production dependencies of the gateway and the packages it composes, exactly as locked.
COPY package.json package-lock.json ./
COPY packages/oauth-dynamicclient/package.json packages/oauth-dynamicclient/
COPY packages/streamablehttp-proxy/package.json packages/streamablehttp-proxy/
COPY packages/fetch-server/package.json packages/fetch-server/
COPY packages/gateway-kit/package.json packages/gateway-kit/
RUN npm ci --omit=dev --workspace @mcp-gateway/gateway-kit --no-audit --no-fund && npm cache clean --force
ARG MCP_SERVER_PACKAGES=""
RUN if [ -n "$MCP_SERVER_PACKAGES" ]; then \
      npm install -g --no-audit --no-fund $MCP_SERVER_PACKAGES && npm cache clean --force; \
    fi
COPY --from=build /out/ ./packages/
RUN mkdir -p /data && chown node:node /data

USER node
WORKDIR /data
VOLUME ["/data"]
ENV MCP_GATEWAY__LISTEN__HOST=0.0.0.0 \
    MCP_GATEWAY__LISTEN__PORT=8080 \
    MCP_GATEWAY__DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.MCP_GATEWAY__LISTEN__PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/packages/gateway-kit/dist/cli.js"]
