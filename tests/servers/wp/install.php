<?php
/*
 * Headless WordPress install for perechen's tests, run with the php CLI (no HTTP, no internet).
 * Input: PERECHEN_WP_CONFIG_FILE (the session's config), PERECHEN_WP_HOST ("127.0.0.1:PORT"),
 * PERECHEN_WP_INSTALL (JSON: title, admin_user, admin_password, admin_email, editor_user,
 * editor_password, editor_email). Output: one JSON line with the Application Passwords.
 */
$host = (string) getenv('PERECHEN_WP_HOST');
$_SERVER['WORDPRESS_CONFIG'] = 'perechen-tests';
$_SERVER['HTTP_HOST'] = $host;
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = explode(':', $host)[1] ?? '80';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REQUEST_URI'] = '/wp-admin/install.php';
$_SERVER['SCRIPT_NAME'] = '/wp-admin/install.php';
$_SERVER['PHP_SELF'] = '/wp-admin/install.php';
define('WP_INSTALLING', true);

// Pluggable: no mail about the new site.
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password)
{
}

$cfg = json_decode((string) getenv('PERECHEN_WP_INSTALL'), true);
if (!is_array($cfg)) {
    fwrite(STDERR, "PERECHEN_WP_INSTALL is not JSON\n");
    exit(2);
}

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (is_blog_installed()) {
    fwrite(STDERR, "already installed\n");
    exit(3);
}
$installed = wp_install($cfg['title'], $cfg['admin_user'], $cfg['admin_email'], false, '', wp_slash($cfg['admin_password']), '');
$admin_id = (int) $installed['user_id'];

global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
$wp_rewrite->flush_rules(false);

$editor_id = wp_insert_user([
    'user_login' => $cfg['editor_user'],
    'user_pass' => $cfg['editor_password'],
    'user_email' => $cfg['editor_email'],
    'display_name' => 'Editor',
    'role' => 'editor',
]);
if (is_wp_error($editor_id)) {
    fwrite(STDERR, 'editor: ' . $editor_id->get_error_message() . "\n");
    exit(4);
}

$out = ['admin_id' => $admin_id, 'editor_id' => (int) $editor_id];
foreach (['admin' => $admin_id, 'editor' => (int) $editor_id] as $who => $uid) {
    $made = WP_Application_Passwords::create_new_application_password($uid, ['name' => 'perechen-tests']);
    if (is_wp_error($made)) {
        fwrite(STDERR, $who . ': ' . $made->get_error_message() . "\n");
        exit(5);
    }
    $out[$who . '_app_password'] = $made[0];
}
echo json_encode($out), "\n";
