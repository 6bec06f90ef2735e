#!/usr/bin/env bash
# build.sh: set up what the build needs on a fresh machine, then build.
#
#   ./build.sh test    build every module and run every test (unit, differential,
#                      system kernels, pax-exam, distribution); the README's test command
#   ./build.sh         build the distribution at runtime/target/lguest, tests skipped
set -euo pipefail
cd "$(dirname "$0")"

need_install=()
command -v mvn >/dev/null || need_install+=(maven)
command -v gcc >/dev/null || need_install+=(gcc)
command -v ld >/dev/null || need_install+=(binutils)
# The CPU's differential tests need an i386 oracle: the host processor where it
# runs i386 programs, else qemu-system-i386 (bundles/cpu-x86/README-difftest.md).
if [ "${1:-}" = test ] && ! command -v qemu-system-i386 >/dev/null; then
    need_install+=(qemu-system-x86)
fi
# The Linux disk tests make and check ext2 images on the host (mke2fs -d, e2fsck, debugfs).
if [ "${1:-}" = test ] && ! [ -x /usr/sbin/mke2fs ] && ! [ -x /sbin/mke2fs ]; then
    need_install+=(e2fsprogs)
fi
# The web console's browser test (itest WebConsoleIT) drives Debian's headless Chromium through chromedriver.
if [ "${1:-}" = test ] && { ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; }; then
    need_install+=(chromium chromium-driver)
fi
if [ ${#need_install[@]} -gt 0 ]; then
    echo "build.sh: installing ${need_install[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${need_install[@]}"
fi

# A JDK 25 (the project's release); JAVA_HOME wins when it is one.
java_major() {
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}
if [ -z "${JAVA_HOME:-}" ] || [ "$(java_major "$JAVA_HOME/bin/java" 2>/dev/null || echo 0)" -lt 25 ]; then
    JAVA_HOME=""
    for candidate in /usr/lib/jvm/*; do
        if [ -x "$candidate/bin/javac" ] && [ "$(java_major "$candidate/bin/java")" -ge 25 ]; then
            JAVA_HOME=$candidate
            break
        fi
    done
    if [ -z "$JAVA_HOME" ]; then
        echo "build.sh: no JDK 25 found; install one (e.g. Temurin 25) and set JAVA_HOME" >&2
        exit 1
    fi
    export JAVA_HOME
fi

# gcc must target i386 (the guest kernel, test kernels and the differential helper are 32-bit).
if ! echo 'int main(void){return 0;}' | gcc -m32 -ffreestanding -nostdlib -c -x c - -o /dev/null 2>/dev/null; then
    echo "build.sh: gcc cannot build 32-bit code (-m32); install gcc with i386 support" >&2
    exit 1
fi

export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
case "${1:-}" in
    test) exec mvn -B verify ;;
    "") exec mvn -B -DskipTests verify ;;
    *) echo "usage: ./build.sh [test]" >&2; exit 2 ;;
esac
