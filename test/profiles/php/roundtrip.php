<?php
// For each line of stdin (one JSON document): what PHP's json_encode(json_decode($line, true))
// gives, or ERROR: <message>. Lets tests compare Herald's PHP-style encoder with PHP itself.
while (($line = fgets(STDIN)) !== false) {
    $line = rtrim($line, "\n");
    $value = json_decode($line, true, 512, 0);
    if (json_last_error() !== JSON_ERROR_NONE) { echo 'ERROR: ', json_last_error_msg(), "\n"; continue; }
    $out = json_encode($value);
    echo $out === false ? 'ERROR: ' . json_last_error_msg() : $out, "\n";
}
