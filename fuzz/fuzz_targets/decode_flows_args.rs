//! The flows contract's arguments, decoded as the contract decodes them
//! (Borsh, every byte used): decoding never panics, and what decodes encodes
//! to the same bytes. The first byte picks the method's argument type.
#![no_main]

use billflow_contract_flows::{
    Answer, ApproveDiscount, CreateOrder, DiscountPolicy, FreezeBill, IssueBill, RecordDelivery, RecordInvoice,
    Recourse, Rediscount, RegisterParty, ReportMovement, RequestDiscount, Reverse, Transfer, VerifyInvoice,
};
use libfuzzer_sys::fuzz_target;

fn check<T: borsh::BorshDeserialize + borsh::BorshSerialize>(bytes: &[u8]) {
    if let Ok(value) = borsh::from_slice::<T>(bytes) {
        assert_eq!(borsh::to_vec(&value).unwrap(), bytes, "arguments decoded from bytes they do not encode to");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((which, bytes)) = data.split_first() else { return };
    match which % 16 {
        0 => check::<RegisterParty>(bytes),
        1 => check::<CreateOrder>(bytes),
        2 => check::<RecordDelivery>(bytes),
        3 => check::<RecordInvoice>(bytes),
        4 => check::<VerifyInvoice>(bytes),
        5 => check::<IssueBill>(bytes),
        6 => check::<Transfer>(bytes),
        7 => check::<RequestDiscount>(bytes),
        8 => check::<ApproveDiscount>(bytes),
        9 => check::<Rediscount>(bytes),
        10 => check::<Recourse>(bytes),
        11 => check::<Answer>(bytes),
        12 => check::<FreezeBill>(bytes),
        13 => check::<DiscountPolicy>(bytes),
        14 => check::<ReportMovement>(bytes),
        _ => check::<Reverse>(bytes),
    }
});
