#!/usr/bin/env python3
"""Adds lockfile entries for Biome's optional platform packages that the package mirror here does
not serve (npm then leaves them out of package-lock.json and `npm ci` refuses the lock). Each entry
only names the platform; npm never fetches a package whose os/cpu does not match the machine."""
import json, sys

PLATFORMS = {
    'win32-x64': (['win32'], ['x64'], None), 'win32-arm64': (['win32'], ['arm64'], None),
    'darwin-x64': (['darwin'], ['x64'], None), 'darwin-arm64': (['darwin'], ['arm64'], None),
    'linux-x64': (['linux'], ['x64'], ['glibc']), 'linux-arm64': (['linux'], ['arm64'], ['glibc']),
    'linux-x64-musl': (['linux'], ['x64'], ['musl']), 'linux-arm64-musl': (['linux'], ['arm64'], ['musl']),
    'android-x64': (['android'], ['x64'], None), 'android-arm64': (['android'], ['arm64'], None),
}
path = sys.argv[1] if len(sys.argv) > 1 else 'package-lock.json'
lock = json.load(open(path))
pkgs = lock['packages']
version = pkgs['node_modules/@biomejs/biome']['version']
for name, (os_, cpu, libc) in PLATFORMS.items():
    key = f'node_modules/@biomejs/cli-{name}'
    if key in pkgs:
        continue
    entry = {'version': version, 'cpu': cpu, 'dev': True, 'license': 'MIT OR Apache-2.0', 'optional': True, 'os': os_,
             'engines': {'node': '>=14.21.3'}}
    if libc:
        entry['libc'] = libc
    pkgs[key] = entry
lock['packages'] = dict(sorted(pkgs.items(), key=lambda kv: (kv[0] != '', kv[0])))
json.dump(lock, open(path, 'w'), indent=2)
open(path, 'a').write('\n')
