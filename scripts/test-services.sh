#!/usr/bin/env bash
# Starts the servers the integration tests talk to — PostgreSQL, MariaDB, RabbitMQ — and
# creates the `stratus` test accounts. Idempotent; needs root and the Debian packages
# postgresql, mariadb-server and rabbitmq-server. Used by .ci/run; handy on a laptop.
set -euo pipefail

pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_ctlcluster "$pg_version" main start 2>/dev/null || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='stratus'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE stratus LOGIN CREATEDB PASSWORD 'stratus'\""

if ! mysqladmin ping >/dev/null 2>&1; then service mariadb start >/dev/null; fi
for _ in $(seq 1 30); do mysqladmin ping >/dev/null 2>&1 && break; sleep 1; done
mysql -e "CREATE USER IF NOT EXISTS 'stratus'@'localhost' IDENTIFIED BY 'stratus';
          CREATE USER IF NOT EXISTS 'stratus'@'127.0.0.1' IDENTIFIED BY 'stratus';
          GRANT ALL PRIVILEGES ON *.* TO 'stratus'@'localhost';
          GRANT ALL PRIVILEGES ON *.* TO 'stratus'@'127.0.0.1';"

if ! rabbitmqctl -q status >/dev/null 2>&1; then service rabbitmq-server start >/dev/null; fi
rabbitmqctl -q await_startup >/dev/null
echo "test services ready: postgresql $pg_version, mariadb, rabbitmq"
