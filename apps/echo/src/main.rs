//! Echo: prints the arguments the kernel passed (`init=echo ARGS...`), then joins them
//! into a `String` and sums their lengths in a `Vec` on the SDK's heap, to show that
//! arguments and `alloc` work in a Rust program. Returns the number of arguments.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use ingot_sdk::println;

ingot_sdk::entry!(main);

fn main() -> u64 {
    let count = ingot_sdk::args::count();
    println!("echo: argc={count}");
    for (index, word) in ingot_sdk::args::args().enumerate() {
        println!("echo: argv[{index}]={word}");
    }
    let words: Vec<&str> = ingot_sdk::args::args().skip(1).collect();
    let mut joined = String::new();
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    let lengths: Vec<usize> = words.iter().map(|word| word.len()).collect();
    println!("echo: joined=\"{joined}\" total-length={}", lengths.iter().sum::<usize>());
    // Many allocations of growing size, freed and made again, checked byte for byte.
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for round in 0..64usize {
        blocks.push(alloc::vec![round as u8; 1 << (round % 16)]);
        if round % 3 == 0 {
            blocks.remove(0);
        }
    }
    let intact = blocks.iter().all(|block| block.iter().all(|&byte| byte == block[0]));
    println!("echo: heap blocks={} intact={intact}", blocks.len());
    if !intact {
        return 255;
    }
    count as u64
}
