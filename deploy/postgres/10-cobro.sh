#!/bin/bash
# Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d): one
# role and one database per service, as the services never share a database. Each service
# creates its own tables on first start, so each role owns its database and nothing else.
# Passwords come from the environment (docker-compose.yml) and go to psql as variables, so
# quotes in them cannot break the SQL.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v gateway_password="${POSTGRES_GATEWAY_PASSWORD:?POSTGRES_GATEWAY_PASSWORD must be set}" \
    -v worker_password="${POSTGRES_WORKER_PASSWORD:?POSTGRES_WORKER_PASSWORD must be set}" <<'SQL'
CREATE ROLE gateway LOGIN PASSWORD :'gateway_password';
CREATE ROLE worker LOGIN PASSWORD :'worker_password';
CREATE DATABASE gateway OWNER gateway;
CREATE DATABASE fulfillment OWNER worker;
REVOKE ALL ON DATABASE gateway FROM PUBLIC;
REVOKE ALL ON DATABASE fulfillment FROM PUBLIC;
SQL
