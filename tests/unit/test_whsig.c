/* Unit tests of the Standard Webhooks signer, against the specification's own example. */
#include <criterion/criterion.h>
#include <string.h>

#include "whsig.h"

/* The example of the Standard Webhooks reference libraries. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_BODY "{\"test\": 2432232314}"

Test(whsig, signs_the_spec_example)
{
    char sig[WHSIG_LEN];
    cr_assert_eq(whsig_sign(SPEC_SECRET, SPEC_ID, 1614265330, SPEC_BODY, strlen(SPEC_BODY), sig), 0);
    cr_expect_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

Test(whsig, every_signed_part_changes_the_signature)
{
    char a[WHSIG_LEN], b[WHSIG_LEN], c[WHSIG_LEN];
    whsig_sign(SPEC_SECRET, SPEC_ID, 1614265330, SPEC_BODY, strlen(SPEC_BODY), a);
    whsig_sign(SPEC_SECRET, SPEC_ID, 1614265331, SPEC_BODY, strlen(SPEC_BODY), b);
    whsig_sign(SPEC_SECRET, "msg_other", 1614265330, SPEC_BODY, strlen(SPEC_BODY), c);
    cr_expect_str_neq(a, b);
    cr_expect_str_neq(a, c);
    cr_assert_eq(whsig_sign(SPEC_SECRET, SPEC_ID, 1614265330, "", 0, b), 0);
    cr_expect_str_neq(a, b);
}

Test(whsig, accepts_well_formed_secrets)
{
    char why[160];
    cr_expect_eq(whsig_secret_check(SPEC_SECRET, why, sizeof why), 0);
    /* 64 bytes of key, padded */
    cr_expect_eq(
        whsig_secret_check(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
            "=",
            why, sizeof why),
        0, "%s", why);
}

Test(whsig, refuses_malformed_secrets)
{
    static const char *const bad[] = {
        "",                                       /* empty */
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",       /* no prefix */
        "whsec_",                                 /* no key */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",  /* not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w", /* not standard base64 */
        "whsec_MfKQ=r8GKYqrTwjUPD8ILPZIo2LaLaSw", /* padding inside */
        "whsec_c2hvcnQta2V5",                     /* 9 bytes: too short */
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 66 bytes */
    };
    char why[160], sig[WHSIG_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(whsig_secret_check(bad[i], why, sizeof why), -1, "%s should be refused", bad[i]);
        cr_expect_eq(whsig_sign(bad[i], "id", 1, "", 0, sig), -1, "%s should not sign", bad[i]);
    }
}
