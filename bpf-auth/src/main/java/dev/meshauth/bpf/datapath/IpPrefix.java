package dev.meshauth.bpf.datapath;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 prefix, the ipcache's key.
 *
 * @param address 4 bytes (IPv4) or 16 (IPv6), network order; copied
 * @param length  prefix length, 0..32 or 0..128
 */
public record IpPrefix(byte[] address, int length) {
    /** Copies, checks the length and that no bits are set past it. */
    public IpPrefix {
        address = address.clone();
        if (address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("an address is 4 or 16 bytes, got " + address.length);
        }
        if (length < 0 || length > address.length * 8) {
            throw new IllegalArgumentException("prefix length must be 0.." + address.length * 8 + ", got " + length);
        }
        for (int bit = length; bit < address.length * 8; bit++) {
            if ((address[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw new IllegalArgumentException("address has bits set past /" + length);
            }
        }
    }

    /** Parses "198.18.0.1", "2001:2::1" (a host) or "198.18.0.0/15", "2001:2::/48". */
    public static IpPrefix parse(String text) {
        String[] parts = text.split("/", 2);
        byte[] a = bytes(parts[0]);
        int len;
        try {
            len = parts.length == 2 ? Integer.parseInt(parts[1]) : a.length * 8;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a prefix length in '" + text + "'", e);
        }
        return new IpPrefix(a, len);
    }

    /** A single host, IPv4 or IPv6. */
    public static IpPrefix host(String address) {
        byte[] a = bytes(address);
        return new IpPrefix(a, a.length * 8);
    }

    /** True for an IPv6 prefix. */
    public boolean ipv6() {
        return address.length == 16;
    }

    @Override
    public byte[] address() {
        return address.clone();
    }

    private static byte[] bytes(String literal) {
        if (!literal.matches("[0-9.]+") && !literal.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an IP address: " + literal);
        }
        try {
            InetAddress a = InetAddress.getByName(literal); // a literal: no name lookup
            if (a instanceof Inet4Address || a instanceof Inet6Address) {
                return a.getAddress();
            }
            throw new IllegalArgumentException("not an IP address: " + literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + literal, e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpPrefix p && p.length == length && Arrays.equals(p.address, address);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(address) * 31 + length;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(address).getHostAddress() + "/" + length;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
