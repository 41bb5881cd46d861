package web

import (
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/loginui"
)

// EnrolmentView builds what a page needs to show an authenticator secret
// for enrolment (the sign-in's "More information required" and Security
// info's Add authenticator app): its QR code and the secret as typed.
func EnrolmentView(issuer, account string, secret []byte) (qr loginui.EnrolTOTPPage, err error) {
	uri, err := totp.URI(issuer, account, secret)
	if err != nil {
		return qr, err
	}
	img, err := totp.QRDataURI(uri)
	if err != nil {
		return qr, err
	}
	return loginui.EnrolTOTPPage{QRDataURI: img, Secret: totp.DisplaySecret(secret), Account: account}, nil
}
