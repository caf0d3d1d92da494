#!/usr/bin/env bash
# Install the packages that the real-server tests need (tests/servers) on Debian 12, as root.
# Idempotent: does nothing when everything is already installed.
# Daemons are never started by the package scripts: the tests start their own MariaDB and php -S.
set -euo pipefail

PACKAGES=(wordpress wordpress-theme-twentytwentythree php-cli php-mysql mariadb-server)

if [ "$(id -u)" -ne 0 ]; then
    echo "install-servers.sh: запустите от root (нужен apt-get)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    if [ "$status" != "installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    # policy-rc.d answering 101 forbids invoke-rc.d to start apache2/mariadb during the install.
    # Restore whatever was there before when we are done.
    policy=/usr/sbin/policy-rc.d
    backup=""
    created=0
    if [ -e "$policy" ]; then
        if ! grep -qx 'exit 101' "$policy"; then
            backup="$(mktemp)"
            cp -p "$policy" "$backup"
        fi
    else
        created=1
    fi
    restore_policy() {
        if [ -n "$backup" ]; then
            cp -p "$backup" "$policy"
            rm -f "$backup"
        elif [ "$created" -eq 1 ]; then
            rm -f "$policy"
        fi
    }
    trap restore_policy EXIT
    if [ "$created" -eq 1 ] || [ -n "$backup" ]; then
        printf '#!/bin/sh\n# Written by .ci/install-servers.sh: no daemon starts during package installation.\nexit 101\n' >"$policy"
        chmod 755 "$policy"
    fi

    export DEBIAN_FRONTEND=noninteractive
    echo "install-servers.sh: installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${PACKAGES[@]}"
else
    echo "install-servers.sh: all packages already installed"
fi

# Sanity checks: what the fixtures need.
php -m | grep -x mysqli >/dev/null || { echo "install-servers.sh: PHP has no mysqli" >&2; exit 1; }
test -f /usr/share/wordpress/wp-settings.php || { echo "install-servers.sh: no WordPress" >&2; exit 1; }
test -d /usr/share/wordpress/wp-content/themes/twentytwentythree || {
    echo "install-servers.sh: no twentytwentythree theme" >&2
    exit 1
}
command -v mariadb-install-db >/dev/null || { echo "install-servers.sh: no mariadb-install-db" >&2; exit 1; }
echo "install-servers.sh: ready ($(php -r 'echo PHP_VERSION;'), $(/usr/sbin/mariadbd --version | awk '{print $3}'))"
