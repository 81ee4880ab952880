#!/usr/bin/env bash
# Build the local PostgreSQL 15 test image of the container tier (used by .ci/run).
#
# The builder ships inside the package (sessionerror/testdb/postgres/image/), so that a wheel user
# runs the same script as `sessionerror build-image`; this wrapper keeps the repository command.
#
#   bash docker/build-postgres-image.sh            # reuse the image if it is already built
#   bash docker/build-postgres-image.sh --force    # rebuild
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../sessionerror/testdb/postgres/image/build-postgres-image.sh" "$@"
