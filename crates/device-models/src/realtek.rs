//! What the Realtek NIC models share: the receive filter of the RCR register (its low
//! six bits mean the same on the RTL8139 and the RTL8169 family) and the Ethernet FCS
//! the MAC appends to every received frame before it lands in memory.

/// RCR bit 0: accept every unicast frame (promiscuous).
pub const RCR_AAP: u32 = 1 << 0;
/// RCR bit 1: accept frames sent to the station address (IDR0-5).
pub const RCR_APM: u32 = 1 << 1;
/// RCR bit 2: accept multicast frames.
pub const RCR_AM: u32 = 1 << 2;
/// RCR bit 3: accept broadcast frames.
pub const RCR_AB: u32 = 1 << 3;
/// RCR bit 5: store frames with a receive error (CRC, alignment) instead of dropping them.
pub const RCR_AER: u32 = 1 << 5;

/// Whether a MAC with receive configuration `rcr`, station address `mac` and
/// multicast filter `mar` (MAR0-7) keeps `frame` (by its destination address). A
/// multicast frame passes if its bit in the 64-bit filter is set; the bit is the top
/// six bits of the big-endian CRC-32 of the destination address.
pub fn accepts(rcr: u32, mac: [u8; 6], mar: [u8; 8], frame: &[u8]) -> bool {
    let Some(destination) = frame.get(..6) else { return false };
    if destination == [0xFF; 6] {
        rcr & RCR_AB != 0
    } else if destination[0] & 1 != 0 {
        let bit = (crc32_msb_first(destination) >> 26) as usize;
        rcr & RCR_AM != 0 && mar[bit / 8] & (1 << (bit % 8)) != 0
    } else {
        rcr & RCR_AAP != 0 || (rcr & RCR_APM != 0 && destination == mac)
    }
}

/// IEEE 802.3 CRC-32 (reflected, polynomial 0xEDB88320), the Ethernet FCS.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// CRC-32 computed most significant bit first over the bits as sent (the form the
/// multicast hash uses), without the final inversion.
fn crc32_msb_first(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        for bit in 0..8 {
            let feedback = ((crc >> 31) ^ u32::from(byte >> bit)) & 1;
            crc = (crc << 1) ^ if feedback != 0 { 0x04C1_1DB7 } else { 0 };
        }
    }
    crc
}

/// `frame` followed by its FCS, as the MAC writes it into receive memory.
pub fn with_fcs(frame: &[u8]) -> Vec<u8> {
    let mut wire = frame.to_vec();
    wire.extend_from_slice(&crc32(frame).to_le_bytes());
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcs_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(&with_fcs(b"123456789")[9..], &0xCBF4_3926u32.to_le_bytes());
    }

    #[test]
    fn filter_follows_the_rcr_bits() {
        let mac = [0x52, 0x54, 0, 1, 2, 3];
        let mut to_us = vec![0u8; 60];
        to_us[..6].copy_from_slice(&mac);
        let broadcast = [0xFF; 60];
        let mut other = to_us.clone();
        other[5] = 9;
        let all = [0xFF; 8];
        assert!(accepts(RCR_APM, mac, all, &to_us));
        assert!(!accepts(RCR_APM, mac, all, &other));
        assert!(accepts(RCR_AAP, mac, all, &other));
        assert!(!accepts(RCR_APM, mac, all, &broadcast));
        assert!(accepts(RCR_AB, mac, all, &broadcast));
        // IPv6 all-nodes multicast: passes only through its filter bit.
        let mut multicast = to_us.clone();
        multicast[..6].copy_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
        assert!(accepts(RCR_AM, mac, all, &multicast));
        assert!(!accepts(RCR_AM, mac, [0; 8], &multicast));
        assert!(!accepts(RCR_APM | RCR_AB, mac, all, &multicast));
    }
}
