#!/usr/bin/env bash
# README command (1): installs what is needed, builds, and starts the
# all-in-one cluster with 'kura aio start': on the first run that makes a
# swift.conf with fresh secrets, account, container and object rings (3
# replicas over 4 devices on 127.0.0.1, built with kura-ring) and one config
# per daemon under .aio/ (or $KURA_AIO_DIR); later runs reuse them. It ends
# by printing the endpoint and the test credentials. Stop the cluster with
# 'build/tools/kura aio stop'; doc/aio.md has the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

exec build/tools/kura aio start --dir "${KURA_AIO_DIR:-$PWD/.aio}"
