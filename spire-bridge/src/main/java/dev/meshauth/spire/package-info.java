/**
 * SPIRE integration: Workload API, Delegated Identity API and Entry API clients, and the embedded
 * SPIRE-compatible dev server. Empty until the spire-bridge issue lands; kept in the build so the
 * module graph (auth-agent depends on spire-bridge, never the reverse) is fixed from the start.
 */
package dev.meshauth.spire;
