# proxmox-diode-agent: discovery agent for NetBox (Diode), run beside NetBox Enterprise.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts are needed by them. tsx (and the esbuild
# binary it brings) serves Node < 22.18 only (bin/diode-agent.js loads it when Node cannot
# strip types itself); Node 24 never does, so it leaves the image: npm prune removes it and
# what only it needed, and the package.json copied below no longer lists it.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm pkg delete dependencies.tsx \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete \
 && npm cache clean --force

# The agent compiled to JavaScript (tsconfig.build.json): the image never loads Node's
# TypeScript stripper (amaro), about 20 MB of RSS of every run (README "Performance").
# tsc only emits here (noCheck; `npm run typecheck` checks the types), so the stage needs
# typescript alone, at the version package-lock.json pins.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm install --prefix /opt/tsc --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      "typescript@$(node -p "require('./package-lock.json').packages['node_modules/typescript'].version")"
COPY agent ./agent
COPY mappers ./mappers
COPY proto ./proto
RUN /opt/tsc/node_modules/.bin/tsc -p tsconfig.build.json

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="proxmox-diode-agent" \
      org.opencontainers.image.description="Discovers Proxmox VE, PBS, PDM, Ceph and Packer inventories and ships them to NetBox through Diode" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    DIODE_AGENT_CONFIG=/etc/diode-agent/agent.yaml \
    DIODE_AGENT_STATUS_LISTEN=0.0.0.0:9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./
COPY bin ./bin
# The compiled agent in the sources' places (bin/diode-agent.js prefers agent/cli.js), and
# the .proto files it reads at run time beside it.
COPY --from=build /app/build/agent ./agent
COPY --from=build /app/build/mappers ./mappers
COPY --from=build /app/build/proto ./proto
COPY proto/diode/v1/*.proto ./proto/diode/v1/
# `diode-agent …` on PATH (kubectl exec … -- diode-agent validate), with the entrypoint's
# heap flags (a test keeps both equal to agent/node-flags.ts).
RUN printf '#!/bin/sh\nexec node --max-semi-space-size=16 --heap-growing-percent=30 /app/bin/diode-agent.js "$@"\n' > /usr/local/bin/diode-agent \
 && chmod 0755 /usr/local/bin/diode-agent \
 && mkdir -p /var/lib/diode-agent /etc/diode-agent/policies \
 && chown node:node /var/lib/diode-agent
USER node
VOLUME ["/var/lib/diode-agent"]
EXPOSE 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DIODE_AGENT_STATUS_LISTEN||'0.0.0.0:9464').split(':').pop()+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Heap flags: agent/node-flags.ts says why (a test keeps the two lists equal).
ENTRYPOINT ["node", "--max-semi-space-size=16", "--heap-growing-percent=30", "/app/bin/diode-agent.js"]
CMD ["run"]
