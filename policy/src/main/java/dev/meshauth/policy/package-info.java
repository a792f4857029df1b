/**
 * CiliumNetworkPolicy with {@code authentication.mode}, security identities and Kubernetes watches.
 * Empty until the policy issue lands; kept in the build so the module graph is fixed from the start.
 */
package dev.meshauth.policy;
