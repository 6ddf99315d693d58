package dev.braid.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** Raw disk images for file cards, qemu-nbd, nbdkit and QEMU in tests and benchmarks. */
public final class DiskImages
{
    private DiskImages()
    {
    }

    /**
     * Makes {@code file} an image of {@code size} bytes: created if missing, cut or grown to the size
     * (grown bytes read as zeros and take no space: sparse).
     *
     * @return {@code file}.
     */
    public static Path sparse(final Path file, final long size) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.setLength(size);
        }
        return file;
    }
}
