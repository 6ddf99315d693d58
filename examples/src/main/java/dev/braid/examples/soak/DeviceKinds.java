package dev.braid.examples.soak;

import java.util.List;

/** The device kinds the soak rig knows. */
public final class DeviceKinds
{
    private DeviceKinds()
    {
    }

    /** Every name the CLI accepts for --device. */
    public static List<String> names()
    {
        return List.of("blk", "net", "scsi");
    }

    /** The kinds that can run now. */
    public static List<String> available()
    {
        return List.of("blk", "net", "scsi");
    }

    public static DeviceKind of(final String name)
    {
        switch (name)
        {
            case "blk":
                return new BlkKind();
            case "net":
                return new NetKind();
            case "scsi":
                return new ScsiKind();
            default:
                throw new UsageException("--device must be one of " + String.join(", ", names()) + ": " + name);
        }
    }
}
