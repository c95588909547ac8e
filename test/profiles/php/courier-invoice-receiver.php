<?php
// A Courier Invoice webhook receiver written as Courier Invoice's document tells its customers:
// rebuild the X-CI-AUTH token with hash_hmac over body . account number . timestamp and compare it
// with hash_equals. It also checks that PHP re-encodes the decoded body to the same bytes.
// Runs under `php -S` (HTTP) or the CLI (body on stdin, token in $argv[1]).
// Env: CI_PRIVATE_KEY, CI_ACCOUNT_NUMBER, RECEIVED_LOG (a file each verdict is appended to).
$privateKey = getenv('CI_PRIVATE_KEY');
$account = getenv('CI_ACCOUNT_NUMBER');
if (PHP_SAPI === 'cli') {
    $webhook = stream_get_contents(STDIN);
    $token = $argv[1] ?? bin2hex(random_bytes(1e4));
} else {
    $webhook = file_get_contents('php://input');
    $headers = array_change_key_case(getallheaders(), CASE_UPPER);
    $token = $headers['X-CI-AUTH'] ?? bin2hex(random_bytes(1e4));
}
$data = json_decode($webhook, true);
$timeVal = is_array($data) ? ($data['timestamp'] ?? '') : '';
$verified = hash_equals(hash_hmac('sha256', $webhook . $account . $timeVal, $privateKey), $token);
$sameBytes = is_array($data) && json_encode($data) === $webhook;
$verdict = [
    'verified' => $verified,
    'sameBytes' => $sameBytes,
    'types' => is_array($data) ? array_map(fn ($d) => $d['type'] ?? null, $data['Data'] ?? []) : [],
];
if (getenv('RECEIVED_LOG')) {
    file_put_contents(getenv('RECEIVED_LOG'), json_encode($verdict) . "\n", FILE_APPEND | LOCK_EX);
}
if (PHP_SAPI !== 'cli') http_response_code($verified && $sameBytes ? 200 : 401);
echo json_encode($verdict);
