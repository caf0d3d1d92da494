<?php
/*
 * Router for `php -S` serving Debian's WordPress (/usr/share/wordpress) in perechen's tests.
 *
 * - Points Debian's wp-config.php dispatcher at /etc/wordpress/config-perechen-tests.php, a shim
 *   that loads the per-session config named by the PERECHEN_WP_CONFIG_FILE environment variable.
 * - Serves static files itself, including /wp-content/* from the session's private content dir.
 * - Fault injection without mocks: reads the JSON control file named by PERECHEN_WP_CONTROL and may
 *   answer an error status, sleep, or strip the Authorization header for matching requests.
 * - Appends one JSON line per request to PERECHEN_WP_REQUEST_LOG.
 * Requests carrying the header X-Perechen-Bypass: <PERECHEN_WP_BYPASS> (the test helpers) skip
 * faults and the log.
 *
 * WordPress expects its top-level variables to be globals, so the target script is required at
 * the top level of this file; every variable of the router is prefixed with $__perechen_.
 */

$_SERVER['WORDPRESS_CONFIG'] = 'perechen-tests';

$__perechen_method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
$__perechen_uri = $_SERVER['REQUEST_URI'] ?? '/';
$__perechen_token = (string) getenv('PERECHEN_WP_BYPASS');
$__perechen_bypass = $__perechen_token !== ''
    && hash_equals($__perechen_token, (string) ($_SERVER['HTTP_X_PERECHEN_BYPASS'] ?? ''));
unset($_SERVER['HTTP_X_PERECHEN_BYPASS']);

/** Reads the control file under a lock; consumes one use of the first matching rule. */
function __perechen_take_fault(string $control, string $method, string $uri, bool $bypass): array
{
    $result = ['state' => [], 'rule' => null];
    if ($control === '' || !is_file($control)) {
        return $result;
    }
    $fh = fopen($control, 'c+');
    if ($fh === false) {
        return $result;
    }
    flock($fh, $bypass ? LOCK_SH : LOCK_EX);
    $raw = stream_get_contents($fh);
    $state = json_decode($raw === false || $raw === '' ? '{}' : $raw, true);
    if (!is_array($state)) {
        $state = [];
    }
    $result['state'] = $state;
    if (!$bypass) {
        $decoded = rawurldecode($uri);
        $rules = $state['rules'] ?? [];
        foreach ($rules as $i => $rule) {
            $left = $rule['count'] ?? null;
            if ($left !== null && $left <= 0) {
                continue;
            }
            $want = $rule['method'] ?? null;
            if ($want !== null && strcasecmp((string) $want, $method) !== 0) {
                continue;
            }
            $re = '~' . str_replace('~', '\\~', (string) $rule['regex']) . '~';
            if (!preg_match($re, $uri) && !preg_match($re, $decoded)) {
                continue;
            }
            if ($left !== null) {
                $rules[$i]['count'] = $left - 1;
            }
            $rules[$i]['hits'] = ($rule['hits'] ?? 0) + 1;
            $result['rule'] = $rule;
            $state['rules'] = $rules;
            ftruncate($fh, 0);
            rewind($fh);
            fwrite($fh, json_encode($state));
            fflush($fh);
            break;
        }
    }
    flock($fh, LOCK_UN);
    fclose($fh);
    return $result;
}

$__perechen_fault = __perechen_take_fault(
    (string) getenv('PERECHEN_WP_CONTROL'), $__perechen_method, $__perechen_uri, $__perechen_bypass
);
$GLOBALS['perechen_test_state'] = $__perechen_fault['state'];
$__perechen_rule = $__perechen_fault['rule'];

if (!$__perechen_bypass) {
    $GLOBALS['perechen_test_fault_id'] = $__perechen_rule['id'] ?? null;
    register_shutdown_function(function () use ($__perechen_method, $__perechen_uri): void {
        $log = (string) getenv('PERECHEN_WP_REQUEST_LOG');
        if ($log === '') {
            return;
        }
        $line = json_encode([
            'method' => $__perechen_method,
            'uri' => $__perechen_uri,
            'status' => $GLOBALS['perechen_test_forced_status'] ?? http_response_code(),
            'fault' => $GLOBALS['perechen_test_fault_id'] ?? null,
            'time' => microtime(true),
        ]);
        file_put_contents($log, $line . "\n", FILE_APPEND | LOCK_EX);
    });
    if (!empty($__perechen_fault['state']['strip_authorization'])) {
        unset(
            $_SERVER['HTTP_AUTHORIZATION'],
            $_SERVER['REDIRECT_HTTP_AUTHORIZATION'],
            $_SERVER['PHP_AUTH_USER'],
            $_SERVER['PHP_AUTH_PW'],
            $_SERVER['PHP_AUTH_DIGEST'],
            $_SERVER['AUTH_TYPE']
        );
    }
}

/** Sets the whole status line (code and reason phrase). */
function __perechen_status_line(int $code): void
{
    $reasons = [
        400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden', 404 => 'Not Found', 408 => 'Request Timeout',
        409 => 'Conflict', 413 => 'Payload Too Large', 429 => 'Too Many Requests', 500 => 'Internal Server Error',
        502 => 'Bad Gateway', 503 => 'Service Unavailable', 504 => 'Gateway Timeout',
    ];
    header(sprintf('HTTP/1.1 %d %s', $code, $reasons[$code] ?? 'Error'), true, $code);
}

if ($__perechen_rule !== null) {
    $__perechen_delay = (float) ($__perechen_rule['delay'] ?? 0);
    if ($__perechen_delay > 0) {
        usleep((int) round($__perechen_delay * 1000000));
    }
    $__perechen_status = $__perechen_rule['status'] ?? null;
    if ($__perechen_status !== null) {
        $GLOBALS['perechen_test_forced_status'] = (int) $__perechen_status;
        $__perechen_body = "<!DOCTYPE html>\n<title>Injected fault</title>\n<h1>perechen test fault: HTTP "
            . (int) $__perechen_status . "</h1>\n";
        if (empty($__perechen_rule['after'])) {
            // Fail before WordPress sees the request: nothing is written.
            __perechen_status_line((int) $__perechen_status);
            header('Content-Type: text/html; charset=UTF-8');
            echo $__perechen_body;
            exit;
        }
        // Let WordPress do the work, then replace its answer: the write happened, the client sees an error.
        ob_start();
        register_shutdown_function(function () use ($__perechen_status, $__perechen_body): void {
            while (ob_get_level() > 0) {
                ob_end_clean();
            }
            if (!headers_sent()) {
                header_remove();
                // A full status line: WordPress set one with status_header(), which http_response_code() would not replace.
                __perechen_status_line((int) $__perechen_status);
                header('Content-Type: text/html; charset=UTF-8');
            }
            echo $__perechen_body;
        });
    }
}

$__perechen_root = rtrim((string) $_SERVER['DOCUMENT_ROOT'], '/');
$__perechen_content = rtrim((string) getenv('PERECHEN_WP_CONTENT_DIR'), '/');
$__perechen_path = '/' . ltrim(rawurldecode((string) parse_url($__perechen_uri, PHP_URL_PATH)), '/');

/** Sends a static file, or a 404 when it is outside the allowed folders. */
function __perechen_send_static(string $file, array $allowed): void
{
    $real = realpath($file);
    $ok = false;
    if ($real !== false && is_file($real)) {
        foreach ($allowed as $dir) {
            $dir = realpath($dir);
            if ($dir !== false && strncmp($real, $dir . '/', strlen($dir) + 1) === 0) {
                $ok = true;
                break;
            }
        }
    }
    if (!$ok || substr($real, -4) === '.php') {
        http_response_code(404);
        header('Content-Type: text/plain; charset=UTF-8');
        echo "Not Found\n";
        return;
    }
    $types = [
        'css' => 'text/css', 'js' => 'application/javascript', 'json' => 'application/json',
        'html' => 'text/html; charset=UTF-8', 'htm' => 'text/html; charset=UTF-8', 'txt' => 'text/plain; charset=UTF-8',
        'csv' => 'text/csv; charset=UTF-8', 'xml' => 'application/xml', 'svg' => 'image/svg+xml',
        'png' => 'image/png', 'jpg' => 'image/jpeg', 'jpeg' => 'image/jpeg', 'gif' => 'image/gif',
        'webp' => 'image/webp', 'ico' => 'image/x-icon', 'woff' => 'font/woff', 'woff2' => 'font/woff2',
        'ttf' => 'font/ttf', 'pdf' => 'application/pdf', 'zip' => 'application/zip',
        'xlsx' => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'ods' => 'application/vnd.oasis.opendocument.spreadsheet',
    ];
    $ext = strtolower(pathinfo($real, PATHINFO_EXTENSION));
    header('Content-Type: ' . ($types[$ext] ?? 'application/octet-stream'));
    header('Content-Length: ' . filesize($real));
    header('Last-Modified: ' . gmdate('D, d M Y H:i:s', (int) filemtime($real)) . ' GMT');
    if (($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'HEAD') {
        readfile($real);
    }
}

if ($__perechen_content !== '' && strncmp($__perechen_path, '/wp-content/', 12) === 0) {
    __perechen_send_static(
        $__perechen_content . substr($__perechen_path, 11),
        [$__perechen_content, $__perechen_root . '/wp-content']
    );
    return true;
}

$__perechen_file = $__perechen_root . $__perechen_path;
if (is_dir($__perechen_file)) {
    if (substr($__perechen_path, -1) !== '/') {
        $__perechen_query = parse_url($__perechen_uri, PHP_URL_QUERY);
        header('Location: ' . $__perechen_path . '/' . ($__perechen_query ? '?' . $__perechen_query : ''), true, 301);
        return true;
    }
    if (is_file($__perechen_file . 'index.php')) {
        $__perechen_path .= 'index.php';
        $__perechen_file .= 'index.php';
    }
}
if (!is_file($__perechen_file) || strpos(realpath($__perechen_file), $__perechen_root . '/') !== 0) {
    // Pretty permalinks: everything else goes to WordPress's front controller.
    $__perechen_path = '/index.php';
    $__perechen_file = $__perechen_root . '/index.php';
}
if (substr($__perechen_file, -4) !== '.php') {
    __perechen_send_static($__perechen_file, [$__perechen_root]);
    return true;
}

$_SERVER['SCRIPT_FILENAME'] = $__perechen_file;
$_SERVER['SCRIPT_NAME'] = $__perechen_path;
$_SERVER['PHP_SELF'] = $__perechen_path;
chdir(dirname($__perechen_file));
$__perechen_target = $__perechen_file;
unset(
    $__perechen_method, $__perechen_uri, $__perechen_token, $__perechen_bypass, $__perechen_fault,
    $__perechen_rule, $__perechen_delay, $__perechen_status, $__perechen_body, $__perechen_root,
    $__perechen_content, $__perechen_path, $__perechen_file, $__perechen_query
);
require $__perechen_target;
