package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.link.TcxLink;

/**
 * The two links of one local endpoint.
 *
 * @param toEndpoint   the program judging what the endpoint receives
 * @param fromEndpoint the program judging what it sends
 */
public record EndpointLinks(TcxLink toEndpoint, TcxLink fromEndpoint) {
}
