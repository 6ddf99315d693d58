package dev.braid.virtio.device;

import org.junit.jupiter.api.Test;

import static dev.braid.virtio.device.VirtioFeatures.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureNegotiationTest
{
    private static final int DEVICE_BIT = 5;
    private static final int DEPENDENT_BIT = 22;
    private static final int REQUIRED_BIT = 17;

    @Test
    void wordsSplitAndJoin()
    {
        final long features = 0x8000_0001_0000_0002L;
        assertEquals(2, VirtioFeatures.word(features, 0));
        assertEquals(0x8000_0001, VirtioFeatures.word(features, 1));
        assertEquals(0, VirtioFeatures.word(features, 2));
        assertEquals(features, VirtioFeatures.withWord(VirtioFeatures.withWord(0, 0, 2), 1, 0x8000_0001));
        assertEquals(features, VirtioFeatures.withWord(features, 7, -1));
        assertEquals("1,32,63", VirtioFeatures.toString(features));
        assertEquals(bit(3) | bit(40), VirtioFeatures.mask(3, 40));
    }

    @Test
    void defaultOfferHasRingFeaturesButNotInOrderOrRingReset()
    {
        final FeatureNegotiation negotiation = FeatureNegotiation.offer(bit(DEVICE_BIT), false, false);
        assertTrue(negotiation.isOffered(VirtioFeatures.VERSION_1));
        assertTrue(negotiation.isOffered(VirtioFeatures.RING_PACKED));
        assertTrue(negotiation.isOffered(VirtioFeatures.EVENT_IDX));
        assertTrue(negotiation.isOffered(VirtioFeatures.INDIRECT_DESC));
        assertTrue(negotiation.isOffered(DEVICE_BIT));
        assertFalse(negotiation.isOffered(VirtioFeatures.IN_ORDER));
        assertFalse(negotiation.isOffered(VirtioFeatures.RING_RESET));

        final FeatureNegotiation capable = FeatureNegotiation.offer(0, true, true);
        assertTrue(capable.isOffered(VirtioFeatures.IN_ORDER));
        assertTrue(capable.isOffered(VirtioFeatures.RING_RESET));
    }

    @Test
    void transportReadsAndWritesHalves()
    {
        final FeatureNegotiation negotiation = FeatureNegotiation.offer(bit(DEVICE_BIT), false, false);
        negotiation.deviceFeatureSelect(0);
        assertEquals((int)negotiation.offered(), negotiation.deviceFeatures());
        negotiation.deviceFeatureSelect(1);
        assertEquals((int)(negotiation.offered() >>> 32), negotiation.deviceFeatures());
        negotiation.deviceFeatureSelect(2);
        assertEquals(0, negotiation.deviceFeatures());

        negotiation.driverFeatureSelect(0);
        assertTrue(negotiation.driverFeatures((int)bit(DEVICE_BIT)));
        negotiation.driverFeatureSelect(1);
        assertTrue(negotiation.driverFeatures((int)(bit(VirtioFeatures.VERSION_1) >>> 32)));
        negotiation.driverFeatureSelect(2);
        assertFalse(negotiation.driverFeatures(-1));
        assertEquals(bit(DEVICE_BIT) | bit(VirtioFeatures.VERSION_1), negotiation.acked());
        negotiation.driverFeatureSelect(0);
        assertEquals((int)bit(DEVICE_BIT), negotiation.driverFeatures());
        assertEquals(FeatureNegotiation.OK, negotiation.validate());
    }

    @Test
    void validationRules()
    {
        final FeatureNegotiation negotiation = FeatureNegotiation.offer(bit(DEVICE_BIT) | bit(DEPENDENT_BIT) |
            bit(REQUIRED_BIT), false, false).requires(DEPENDENT_BIT, REQUIRED_BIT);

        negotiation.ackFeatures(bit(DEVICE_BIT));
        assertEquals(FeatureNegotiation.MISSING_VERSION_1, negotiation.validate());

        negotiation.ackFeatures(bit(VirtioFeatures.VERSION_1) | bit(VirtioFeatures.IN_ORDER));
        assertEquals(FeatureNegotiation.UNOFFERED_FEATURE, negotiation.validate());

        negotiation.ackFeatures(bit(VirtioFeatures.VERSION_1) | bit(DEPENDENT_BIT));
        assertEquals(FeatureNegotiation.MISSING_DEPENDENCY, negotiation.validate());

        negotiation.ackFeatures(bit(VirtioFeatures.VERSION_1) | bit(DEPENDENT_BIT) | bit(REQUIRED_BIT));
        assertEquals(FeatureNegotiation.OK, negotiation.validate());
        assertEquals("ok", FeatureNegotiation.describe(FeatureNegotiation.OK));
    }

    @Test
    void lockFreezesAndResetClears()
    {
        final FeatureNegotiation negotiation = FeatureNegotiation.offer(0, false, false);
        negotiation.ackFeatures(bit(VirtioFeatures.RING_PACKED));
        assertEquals(FeatureNegotiation.MISSING_VERSION_1, negotiation.lock());
        assertFalse(negotiation.isLocked());

        negotiation.ackFeatures(bit(VirtioFeatures.VERSION_1) | bit(VirtioFeatures.RING_PACKED));
        assertEquals(FeatureNegotiation.OK, negotiation.lock());
        assertTrue(negotiation.isLocked());
        assertFalse(negotiation.ackFeatures(bit(VirtioFeatures.VERSION_1)));
        assertFalse(negotiation.driverFeatures(0));
        assertTrue(negotiation.isNegotiated(VirtioFeatures.RING_PACKED));

        negotiation.deviceFeatureSelect(1);
        negotiation.reset();
        assertFalse(negotiation.isLocked());
        assertEquals(0, negotiation.acked());
        assertEquals(0, negotiation.deviceFeatureSelect());
    }
}
