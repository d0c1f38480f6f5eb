//! The start stack a program finds on entry, as Linux lays it out for x86-64 (System V
//! ABI §3.4.1): at the stack pointer `argc`, then the `argv` pointers and a null, the
//! `envp` pointers and a null, the auxiliary vector ending in `AT_NULL`; above them the
//! strings and the 16 random bytes `AT_RANDOM` points at. Ingot's native programs get
//! the same block and are passed `argc` and `argv` in registers as well.

/// End of the auxiliary vector.
pub const AT_NULL: u64 = 0;
/// Address of the program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// The program's entry point.
pub const AT_ENTRY: u64 = 9;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// Address of the native call table (Ingot's own tag, outside Linux's numbers).
pub const AT_INGOT_API: u64 = 0x494E_0001;

/// The stack area is too small for the arguments and environment given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// Bytes the block needs.
    pub needed: usize,
}

/// Where the block landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartStack {
    /// The stack pointer on entry (16-byte aligned), pointing at `argc`.
    pub pointer: u64,
    /// Number of arguments.
    pub argc: u64,
    /// Address of the `argv` array.
    pub argv: u64,
}

/// Writes the start block into the top of `stack`, which is the memory
/// `[top - stack.len(), top)`. `auxv` gets `AT_RANDOM` (pointing at `random`) and
/// `AT_NULL` appended. At most half of `stack` is used, the rest is left for the program.
pub fn build(
    stack: &mut [u8],
    top: u64,
    args: &[&str],
    env: &[&str],
    auxv: &[(u64, u64)],
    random: [u8; 16],
) -> Result<StartStack, TooLarge> {
    let string_bytes: usize = args.iter().chain(env).map(|s| s.len() + 1).sum();
    let words = 1 + args.len() + 1 + env.len() + 1 + 2 * (auxv.len() + 2);
    let needed = 16 + string_bytes.next_multiple_of(16) + words * 8 + 16;
    if needed > stack.len() / 2 {
        return Err(TooLarge { needed });
    }
    let base = top - stack.len() as u64;
    let mut cursor = stack.len() - 16;
    stack[cursor..cursor + 16].copy_from_slice(&random);
    let random_address = base + cursor as u64;
    let mut place_string = |text: &str, cursor: &mut usize| {
        *cursor -= text.len() + 1;
        stack[*cursor..*cursor + text.len()].copy_from_slice(text.as_bytes());
        stack[*cursor + text.len()] = 0;
        base + *cursor as u64
    };
    let arg_addresses: alloc::vec::Vec<u64> =
        args.iter().map(|text| place_string(text, &mut cursor)).collect();
    let env_addresses: alloc::vec::Vec<u64> =
        env.iter().map(|text| place_string(text, &mut cursor)).collect();
    cursor &= !15;
    // The vector block's length is a multiple of 8; keep `argc` 16-byte aligned.
    let block_words = words;
    cursor -= block_words * 8;
    cursor &= !15;
    let pointer = base + cursor as u64;
    let mut at = cursor;
    let mut push = |value: u64| {
        stack[at..at + 8].copy_from_slice(&value.to_le_bytes());
        at += 8;
    };
    push(args.len() as u64);
    arg_addresses.iter().for_each(|&a| push(a));
    push(0);
    env_addresses.iter().for_each(|&a| push(a));
    push(0);
    for &(key, value) in auxv {
        push(key);
        push(value);
    }
    push(AT_RANDOM);
    push(random_address);
    push(AT_NULL);
    push(0);
    Ok(StartStack { pointer, argc: args.len() as u64, argv: pointer + 8 })
}
