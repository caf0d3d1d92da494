<?php
/*
 * Plugin Name: perechen test server
 * Description: Must-use plugin for perechen's test WordPress: never sends mail; optional extra upload
 *              types from the fault-control file (key "upload_mimes": {"json": "application/json"});
 *              "no_unfiltered_html": true takes unfiltered_html from everybody, as DISALLOW_UNFILTERED_HTML
 *              or a multisite network (only super admins keep it) do — WordPress's kses then filters posts.
 */

add_filter('pre_wp_mail', static function () {
    return false;
});

add_filter('upload_mimes', static function (array $mimes): array {
    $extra = $GLOBALS['perechen_test_state']['upload_mimes'] ?? [];
    if (is_array($extra)) {
        foreach ($extra as $ext => $type) {
            $mimes[(string) $ext] = (string) $type;
        }
    }
    return $mimes;
});

// Let extra types through the content sniffing too (finfo calls JSON "text/plain" or "application/json").
add_filter('wp_check_filetype_and_ext', static function ($data, $file, $filename, $mimes, $real_mime = null) {
    $extra = $GLOBALS['perechen_test_state']['upload_mimes'] ?? [];
    if (!is_array($extra) || $extra === []) {
        return $data;
    }
    $ext = strtolower(pathinfo((string) $filename, PATHINFO_EXTENSION));
    if (isset($extra[$ext]) && empty($data['ext'])) {
        $data['ext'] = $ext;
        $data['type'] = (string) $extra[$ext];
        $data['proper_filename'] = false;
    }
    return $data;
}, 10, 5);

// WordPress maps the meta capability unfiltered_html here too (DISALLOW_UNFILTERED_HTML, multisite): the role's
// own capability list, which the REST API shows, still says true.
add_filter('map_meta_cap', static function (array $caps, string $cap): array {
    if ($cap === 'unfiltered_html' && !empty($GLOBALS['perechen_test_state']['no_unfiltered_html'])) {
        return ['do_not_allow'];
    }
    return $caps;
}, 10, 2);
