package dev.meshauth.bpf.datapath;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 prefix, the ipcache's key.
 *
 * @param address the address as a 32-bit big-endian integer (198.18.0.1 is 0xC6120001)
 * @param length  prefix length 0..32
 */
public record Ipv4Prefix(int address, int length) {
    /** Checks the length and that no bits are set past it. */
    public Ipv4Prefix {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, got " + length);
        }
        int mask = length == 0 ? 0 : -1 << (32 - length);
        if ((address & ~mask) != 0) {
            throw new IllegalArgumentException("address has bits set past /" + length + ": " + this);
        }
    }

    /** Parses "198.18.0.1" (a /32) or "198.18.0.0/15". */
    public static Ipv4Prefix parse(String text) {
        String[] parts = text.split("/", 2);
        int len = parts.length == 2 ? Integer.parseInt(parts[1]) : 32;
        return new Ipv4Prefix(toInt(parts[0]), len);
    }

    /** A single host. */
    public static Ipv4Prefix host(String address) {
        return new Ipv4Prefix(toInt(address), 32);
    }

    private static int toInt(String dotted) {
        try {
            InetAddress a = InetAddress.getByName(dotted);
            if (!(a instanceof Inet4Address) || !dotted.matches("[0-9.]+")) {
                throw new IllegalArgumentException("not an IPv4 address: " + dotted);
            }
            byte[] b = a.getAddress();
            return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + dotted, e);
        }
    }

    @Override
    public String toString() {
        return (address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "." + (address & 0xff)
                + "/" + length;
    }
}
