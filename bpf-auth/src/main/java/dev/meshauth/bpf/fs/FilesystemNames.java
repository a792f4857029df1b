package dev.meshauth.bpf.fs;

/** Names for the filesystem magics an operator is likely to hit by mistake (include/uapi/linux/magic.h). */
final class FilesystemNames {
    private FilesystemNames() {
    }

    static String describe(long magic) {
        String name = switch ((int) magic) {
            case 0x01021994 -> "tmpfs";
            case 0xef53 -> "ext4";
            case 0x58465342 -> "xfs";
            case 0x9123683e -> "btrfs";
            case 0x794c7630 -> "overlayfs";
            case 0x62656572 -> "sysfs";
            case 0x9fa0 -> "proc";
            case 0x6969 -> "nfs";
            case (int) 0xcafe4a11L -> "bpffs";
            default -> null;
        };
        String hex = "0x" + Long.toHexString(magic);
        return name == null ? "magic " + hex : name + ", magic " + hex;
    }
}
