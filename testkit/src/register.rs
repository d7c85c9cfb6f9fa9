//! The register exports the tests import.

/// A register of five residents of municipality 0363 (the issuer's own tests).
pub const SMALL_REGISTER: &str = "\
register_id,given_name,family_name,birthdate,street_address,postal_code,locality,country,municipality,municipality_code,district,resident_since,valid_until
R-0001,Anna,de Vries,1990-04-12,Dam 1,1012 JS,Amsterdam,NL,Amsterdam,0363,3,2015-06-01,2099-12-31
R-0002,Bram,Jansen,2009-01-20,Kalverstraat 10,1012 PA,Amsterdam,NL,Amsterdam,0363,4,2009-01-20,2099-12-31
R-0003,Chloe,Bakker,1950-11-02,Prinsengracht 263,1016 GV,Amsterdam,NL,Amsterdam,0363,1,1980-03-15,2099-12-31
R-0004,Daan,Visser,1985-07-30,Damrak 70,1012 LM,Amsterdam,NL,Amsterdam,0363,,2020-01-01,2099-12-31
R-0005,Eva,Smit,2001-02-28,Spui 21,1012 WX,Amsterdam,NL,Amsterdam,0363,2,2019-09-09,2099-12-31
";

/// The demo register: 20 fictional residents of Teststad (`issuer/demo/register.csv`).
pub fn demo_register() -> &'static str {
    include_str!("../../issuer/demo/register.csv")
}
