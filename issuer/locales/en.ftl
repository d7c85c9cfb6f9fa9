# The issuer's resident pages in English (the fallback). Each id must also be in nl.ftl
# (http::messages::tests::every_message_exists_in_every_language).

## Every page
enroll-title = Set up your passkey
enroll-intro = Enter the enrollment code from your letter. Your device will then create a passkey: you unlock it with your fingerprint, face or screen lock.
enroll-code = Enrollment code
enroll-code-help = 20 letters and digits; dashes and spaces are optional.
enroll-create = Create passkey
enroll-already = Already set up?
sign-in = Sign in
sign-in-title = Sign in
sign-in-intro = Sign in with the passkey you created for this service.
sign-in-button = Sign in with a passkey
no-passkey-yet = No passkey yet?
no-passkey-link = Set one up with your enrollment code
request-unusable = This request from your wallet cannot be used: { $reason }.
start-again-wallet = Start again from your wallet.
request-expired-title = Request expired
request-refused-title = Request refused
authorize-asks-sign-in = { $wallet } asks for your residency credential. Sign in with your passkey first.
authorize-asks = { $wallet } asks for your residency credential.
authorize-destination = It will go to the wallet at { $destination }: a batch of single-use copies, each bound to a key on your device.
authorize-approve = Add to { $wallet }
cancel = Cancel
authorize-title = Add your residency credential
provider-asks-sign-in = { $wallet } asks { $agency } to confirm that it is a genuine civic wallet. Sign in with your passkey first.
provider-asks = { $wallet } at { $destination } asks { $agency } to confirm that it is a genuine civic wallet, so that it can ask for your residency credential.
provider-names = The confirmation names the wallet and a key it made on this device. It does not name you or your device, and { $agency } keeps no record of it.
provider-approve = Confirm { $wallet }
provider-title = Confirm your wallet

## The account page
me-title = Your residency
me-held = What we hold about you
me-register-number = Register number
me-valid-until = Registration valid until
me-passkeys = Your passkeys
me-remove = Remove
me-remove-label = Remove { $name }
me-add-passkey = Add a passkey
me-credentials = Your residency credentials
me-no-credentials = You have not added a residency credential to a wallet yet.
me-credential-counts = { $total ->
    [one] 1 copy issued
   *[other] { $total } copies issued
}: { $valid } valid, { $suspended } suspended, { $revoked } revoked, { $expired } expired.
me-offer-button = Add residency credential to my wallet
me-offer-scan = Scan this code with your wallet, or open the link on this device.
me-offer-qr = QR code of the credential offer
me-offer-link = Open in my wallet on this device
me-offer-tx = Your wallet will ask for this code:
me-offer-once = The offer works once and expires in a few minutes.
me-blocked = A credential cannot be issued now: { $reason }.
me-sign-out = Sign out
blocked-not-on-register = you are not on the register
blocked-left-register = you are no longer on the register
blocked-revoked = your credentials are revoked or suspended
blocked-expired = your registration has expired
blocked-incomplete = your register entry is incomplete
claim-given_name = Given name
claim-family_name = Family name
claim-birthdate = Date of birth
claim-address-street_address = Street address
claim-address-postal_code = Postal code
claim-address-locality = Town or city
claim-address-country = Country
claim-residence-municipality = Municipality
claim-residence-municipality_code = Municipality code
claim-residence-district = District
claim-resident_since = Resident since

## /static/app.js
js-follow-prompt = Follow the prompt on your device…
js-offer-ready = Offer ready.
js-returning = Returning to your wallet…
js-cancelled = The passkey prompt was cancelled or timed out. Please try again.
js-has-passkey = This device already has a passkey for your account.
js-no-passkeys = This browser or device does not support passkeys.
js-wrong-address = Passkeys only work on the municipality’s own web address.
error-invalid_code = The code is not right. Check it and try again.
error-code_locked = This code is locked after too many wrong tries. Ask the municipality for a new one.
error-code_expired = This code has expired. Ask the municipality for a new one.
error-code_used = This code has already been used.
error-ceremony_expired = That took too long. Please start again.
error-unknown_passkey = This passkey is not known here. Set one up with your enrollment code.
error-last_passkey = This is your only passkey: add another before you remove it.
