<?php
/*
 * Installed by perechen's test fixtures as /etc/wordpress/config-perechen-tests.php.
 * Debian's /usr/share/wordpress/wp-config.php loads it when $_SERVER['WORDPRESS_CONFIG'] is
 * 'perechen-tests' (set by tests/servers/wp_router.php); it loads the per-session configuration
 * named by the PERECHEN_WP_CONFIG_FILE environment variable, so concurrent sessions never clash.
 */
$perechen_wp_config_file = getenv('PERECHEN_WP_CONFIG_FILE');
if (!is_string($perechen_wp_config_file) || $perechen_wp_config_file === '' || !is_file($perechen_wp_config_file)) {
    header('HTTP/1.0 500 Internal Server Error');
    echo "perechen tests: PERECHEN_WP_CONFIG_FILE is not set or missing\n";
    exit(1);
}
require $perechen_wp_config_file;
