#!/bin/sh
# perechen nightly for cron (Debian/Ubuntu). Install and test: see README, «Ночной запуск по расписанию».
#
# Runs `perechen nightly` in the project folder and stays silent when all is well (exit code 0), so cron
# sends mail only when there is something to do: rule errors or a missed deadline (1), or a run that could
# not be done (2). Everything is also in output/logs/nightly.log and output/reports/index.html.
#
# Settings (environment, all optional):
#   PERECHEN_HOME    the project folder (default: two levels above this script)
#   PERECHEN_CONFIG  the settings file (default: $PERECHEN_HOME/perechen.toml)
#   PERECHEN_ENV     a file of VAR=value lines with secrets, e.g. the SMTP password named by
#                    mail.password_env (default: $PERECHEN_HOME/perechen.env; keep it chmod 600)
# Extra arguments are passed to `perechen nightly` (e.g. --no-mail).
set -u

here=$(cd "$(dirname "$0")" && pwd)
PERECHEN_HOME=${PERECHEN_HOME:-$(cd "$here/../.." && pwd)}
PERECHEN_CONFIG=${PERECHEN_CONFIG:-$PERECHEN_HOME/perechen.toml}
PERECHEN_ENV=${PERECHEN_ENV:-$PERECHEN_HOME/perechen.env}
PERECHEN_BIN=${PERECHEN_BIN:-$PERECHEN_HOME/.venv/bin/perechen}

# cron starts with an almost empty environment: UTF-8 for Russian messages, a sane PATH and umask.
export LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONIOENCODING=utf-8
export PATH=/usr/local/bin:/usr/bin:/bin
umask 027

cd "$PERECHEN_HOME" || { echo "perechen: нет папки проекта $PERECHEN_HOME" >&2; exit 2; }
if [ ! -x "$PERECHEN_BIN" ]; then
    echo "perechen: не найдена программа $PERECHEN_BIN (установите: python3 -m venv .venv && .venv/bin/pip install -e .)" >&2
    exit 2
fi
if [ -f "$PERECHEN_ENV" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$PERECHEN_ENV"
    set +a
fi
config_arg=""
if [ -f "$PERECHEN_CONFIG" ]; then
    config_arg="--config"
else
    PERECHEN_CONFIG=""
fi

out=$("$PERECHEN_BIN" nightly ${config_arg:+"$config_arg"} ${PERECHEN_CONFIG:+"$PERECHEN_CONFIG"} "$@" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out"
    echo "perechen nightly: код выхода $rc (1 — ошибки в книге или прошёл срок публикации; 2 — запуск не выполнен)."
fi
exit "$rc"
