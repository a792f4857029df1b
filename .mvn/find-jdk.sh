# Sourced by ./mvnw and ./meshauth: point JAVA_HOME at a JDK 25 or newer.
# Keeps a JAVA_HOME that is already new enough; otherwise tries the JDKs this project
# is known to run on, then whatever `java` is on PATH. POSIX sh (mvnw runs under set -euf).

meshauth_jdk_major() {
  # Prints the feature version of the JDK at $1 (reads $1/release, no JVM start-up).
  [ -r "$1/release" ] || { echo 0; return; }
  v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n 1)
  echo "${v:-0}"
}

meshauth_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ "$(meshauth_jdk_major "$JAVA_HOME")" -ge 25 ]; then
    return 0
  fi
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 \
                   /usr/lib/jvm/temurin-2[6-9]-jdk-* /usr/lib/jvm/java-2[5-9]-openjdk-* \
                   /usr/lib/jvm/jdk-2[5-9]*; do
    if [ -d "$candidate" ] && [ "$(meshauth_jdk_major "$candidate")" -ge 25 ]; then
      if [ -n "${JAVA_HOME-}" ]; then
        echo "meshauth: JAVA_HOME=$JAVA_HOME is older than JDK 25; using $candidate" >&2
      fi
      JAVA_HOME=$candidate
      export JAVA_HOME
      return 0
    fi
  done
  if command -v java >/dev/null 2>&1; then
    path_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if [ "$(meshauth_jdk_major "$path_home")" -ge 25 ]; then
      JAVA_HOME=$path_home
      export JAVA_HOME
      return 0
    fi
  fi
  echo "meshauth: no JDK 25 or newer found (JAVA_HOME='${JAVA_HOME-}', looked in /usr/lib/jvm)." >&2
  echo "meshauth: install one (for example Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
