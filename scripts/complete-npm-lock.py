#!/usr/bin/env python3
"""Adds lock entries for platform-specific optional packages the registry mirror lacks.

The npm registry reachable from our build machines only serves the Linux builds of
Tailwind's native `@tailwindcss/oxide-*` packages, so `npm install` leaves the other
platforms out of package-lock.json, and `npm ci` then refuses the lock as out of sync. The
entries added here carry only version, os and cpu: npm skips them on Linux without
fetching anything. Run after any `npm install` that changes the lock.
"""
import json
import pathlib

LOCK = pathlib.Path(__file__).resolve().parent.parent / "package-lock.json"
PLATFORMS = {
    "android-arm64": ("android", "arm64"),
    "darwin-arm64": ("darwin", "arm64"),
    "darwin-x64": ("darwin", "x64"),
    "freebsd-x64": ("freebsd", "x64"),
    "linux-arm-gnueabihf": ("linux", "arm"),
    "wasm32-wasi": (None, "wasm32"),
    "win32-arm64-msvc": ("win32", "arm64"),
    "win32-x64-msvc": ("win32", "x64"),
}

lock = json.loads(LOCK.read_text())
packages = lock["packages"]
added = []
for path, meta in list(packages.items()):
    for dep, version in (meta.get("optionalDependencies") or {}).items():
        key = f"node_modules/{dep}"
        if key in packages:
            continue
        suffix = next((s for s in PLATFORMS if dep.endswith("-" + s)), None)
        if suffix is None:
            raise SystemExit(f"{dep} (optional dependency of {path}) is missing from the lock and is not a known platform package")
        os_name, cpu = PLATFORMS[suffix]
        entry = {"version": version, "cpu": [cpu], "license": "MIT", "optional": True}
        if os_name:
            entry["os"] = [os_name]
        packages[key] = entry
        added.append(dep)
LOCK.write_text(json.dumps(lock, indent=2) + "\n")
print(f"added {len(added)} platform entries: {', '.join(added) or 'none'}")
