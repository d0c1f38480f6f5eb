//! The length and checksum in the kernel header of `kernel.bin`, which the disk
//! loaders check before they jump (`ingot-bios: kernel.bin truncated or corrupt`).
//!
//! At 0x70 of the header (1 MiB + 0x70 once loaded): the image's length in bytes
//! (`u32`), then a `u32` chosen so that the wrapping sum of all the image's
//! little-endian `u32` words is zero. A sum is what a 16-bit loader checks in a few
//! instructions; together with the length it catches a file cut short (even one cut in
//! the zeros of `.bss`) and a changed byte.

/// Offset of the length field; the checksum follows it.
pub const LENGTH_AT: usize = 0x70;
const CHECKSUM_AT: usize = LENGTH_AT + 4;
/// Where the API table's magic, the image's Ingot signature, lies.
const SIGNATURE_AT: usize = 0x80;
/// The header up to the end of the API table's magic, which the image must at least hold.
const HEADER_BYTES: usize = SIGNATURE_AT + 8;

/// The wrapping sum of `image`'s little-endian `u32` words (its length a multiple of 4).
fn word_sum(image: &[u8]) -> u32 {
    image
        .as_chunks::<4>()
        .0
        .iter()
        .fold(0u32, |sum, word| sum.wrapping_add(u32::from_le_bytes(*word)))
}

/// Pads the flat kernel image with zeros to a multiple of 4 bytes and writes its
/// length and checksum into the header.
pub fn seal(image: &mut Vec<u8>) -> Result<(), String> {
    if image.len() < HEADER_BYTES || &image[SIGNATURE_AT..HEADER_BYTES] != b"INGOTAPI" {
        return Err("kernel.bin has no Ingot header to write its length into".into());
    }
    image.resize(image.len().next_multiple_of(4), 0);
    let length = u32::try_from(image.len()).map_err(|_| "kernel.bin is 4 GiB or larger")?;
    image[LENGTH_AT..CHECKSUM_AT].copy_from_slice(&length.to_le_bytes());
    image[CHECKSUM_AT..CHECKSUM_AT + 4].fill(0);
    let checksum = word_sum(image).wrapping_neg();
    image[CHECKSUM_AT..CHECKSUM_AT + 4].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
}

/// What the loaders check: the length field is the image's size, a multiple of 4, and
/// the words sum to zero (`boot/bios` stage 2 and `boot/uefi` do the same).
#[cfg(test)]
fn is_sealed(image: &[u8]) -> bool {
    let Some(field) = image.get(LENGTH_AT..CHECKSUM_AT) else { return false };
    let length = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
    length as usize == image.len() && image.len().is_multiple_of(4) && word_sum(image) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: usize) -> Vec<u8> {
        let mut image: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        image[SIGNATURE_AT..HEADER_BYTES].copy_from_slice(b"INGOTAPI");
        image
    }

    #[test]
    fn a_sealed_image_passes_and_records_its_padded_length() {
        let mut kernel = image(1001);
        seal(&mut kernel).unwrap();
        assert_eq!(kernel.len(), 1004);
        assert_eq!(&kernel[LENGTH_AT..LENGTH_AT + 4], &1004u32.to_le_bytes());
        assert!(is_sealed(&kernel));
    }

    #[test]
    fn cut_or_changed_images_fail() {
        let mut kernel = image(4096);
        kernel[2048..].fill(0);
        seal(&mut kernel).unwrap();
        // Cut inside the trailing zeros: the sum still matches, the length does not.
        assert!(!is_sealed(&kernel[..3072]));
        assert!(!is_sealed(&kernel[..LENGTH_AT + 2]));
        let mut changed = kernel.clone();
        changed[500] ^= 0x10;
        assert!(!is_sealed(&changed));
    }

    #[test]
    fn an_image_without_a_header_is_refused() {
        assert!(seal(&mut vec![0; 4096]).is_err());
        assert!(seal(&mut b"INGOTAPI".to_vec()).is_err());
        let mut signature_at_start = vec![0; 4096];
        signature_at_start[..8].copy_from_slice(b"INGOTAPI");
        assert!(seal(&mut signature_at_start).is_err());
    }
}
