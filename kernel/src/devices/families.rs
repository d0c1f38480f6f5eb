//! Driver families: the kernel's cargo features that choose which drivers a build
//! carries (`cargo xtask build --drivers virtio,nvme`). Each family names the devices
//! it would drive in coarse terms (class, vendor, or virtio's device IDs), always
//! compiled in, so that a device whose family was left out of the build gets a clear
//! line, `ingot: <family> <where>: not supported by this kernel (built without the
//! <family> driver family)`, rather than silently staying unused.

use ingot_pci::PciFunction;

use crate::println;

/// A driver family: its feature name, whether this build has it, and the PCI
/// functions its drivers are for.
struct Family {
    name: &'static str,
    built: bool,
    recognises: fn(&PciFunction) -> bool,
}

const NETWORK_CLASS: u8 = 0x02;

static FAMILIES: &[Family] = &[
    Family {
        name: "virtio",
        built: cfg!(feature = "virtio"),
        // virtio-net and virtio-blk, transitional (1000, 1001) and modern (1041, 1042).
        recognises: |f| f.vendor == 0x1AF4 && matches!(f.device, 0x1000 | 0x1001 | 0x1041 | 0x1042),
    },
    Family {
        name: "nvme",
        built: cfg!(feature = "nvme"),
        recognises: |f| (f.class, f.subclass, f.prog_if) == (0x01, 0x08, 0x02),
    },
    Family {
        name: "ahci",
        built: cfg!(feature = "ahci"),
        recognises: |f| (f.class, f.subclass, f.prog_if) == (0x01, 0x06, 0x01),
    },
    Family {
        name: "ide",
        built: cfg!(feature = "ide"),
        recognises: |f| (f.class, f.subclass) == (0x01, 0x01),
    },
    Family {
        name: "intel-nic",
        built: cfg!(feature = "intel-nic"),
        recognises: |f| f.vendor == 0x8086 && f.class == NETWORK_CLASS,
    },
    Family {
        name: "realtek",
        built: cfg!(feature = "realtek"),
        recognises: |f| f.vendor == 0x10EC && f.class == NETWORK_CLASS,
    },
    Family {
        name: "xhci",
        built: cfg!(feature = "xhci"),
        recognises: |f| (f.class, f.subclass, f.prog_if) == (0x0C, 0x03, 0x30),
    },
];

/// Prints the not-supported line for `function` when no driver of this build took it
/// and a family left out of the build is for it.
pub fn report_left_out(function: &PciFunction) {
    if let Some(family) = FAMILIES.iter().find(|f| !f.built && (f.recognises)(function)) {
        not_supported(family.name, &function.address);
    }
}

/// `ingot: <family> <location>: not supported by this kernel (…)`.
pub fn not_supported(family: &str, location: &dyn core::fmt::Display) {
    println!(
        "ingot: {family} {location}: not supported by this kernel (built without the {family} driver family)"
    );
}
