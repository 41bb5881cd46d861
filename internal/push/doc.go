// Package push delivers Web Push notifications to paired phones: VAPID
// keys (RFC 8292), subscription checks, and a Sender that encrypts
// (RFC 8291, via webpush-go) and POSTs messages in the background. It knows
// nothing of the store or of HTTP handlers: callers keep subscriptions and
// keys and hand them in.
package push
