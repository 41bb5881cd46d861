package password

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// MinBytes is the shortest password the policy accepts.
const MinBytes = 8

// Scores of zxcvbn: 0 (too guessable) to 4 (very unguessable).
const (
	MaxScore        = 4
	DefaultMinScore = 3
)

// Reasons a Policy refuses a password; a *PolicyError wraps one of them.
var (
	ErrTooShort     = fmt.Errorf("password is shorter than %d bytes", MinBytes)
	ErrNotText      = errors.New("password is not valid UTF-8 text")
	ErrTooGuessable = errors.New("password is too easy to guess")
)

// PolicyError is a password the policy refuses. Its message is a sentence
// for the person who chose the password, saying why and what to do; it
// wraps the reason (ErrTooShort, ErrTooLong, ErrNotText or
// ErrTooGuessable).
type PolicyError struct {
	Reason  error
	Message string
	Score   int // zxcvbn's score, for ErrTooGuessable
}

func (e *PolicyError) Error() string { return e.Message }
func (e *PolicyError) Unwrap() error { return e.Reason }

// Policy is the strength rule for passwords people choose (set by the user
// on Security info, or given to the CLI). It does not apply to checking a
// password at sign-in (every stored password keeps working), nor to
// generated secrets (the first admin's random password, app passwords).
type Policy struct {
	// MinScore is the lowest zxcvbn score accepted, 0 to MaxScore; 0
	// leaves only the length rule.
	MinScore int
}

// DefaultPolicy asks for a zxcvbn score of at least DefaultMinScore.
func DefaultPolicy() Policy { return Policy{MinScore: DefaultMinScore} }

// Validate checks MinScore.
func (p Policy) Validate() error {
	if p.MinScore < 0 || p.MinScore > MaxScore {
		return fmt.Errorf("minimum password score must be between 0 and %d, got %d", MaxScore, p.MinScore)
	}
	return nil
}

// hint closes every "too easy to guess" message.
const hint = "Add more words or characters: a few uncommon words together are easy to remember and hard to guess."

// Check refuses a new password that is shorter than MinBytes, longer than
// MaxBytes (bcrypt's limit), not UTF-8, or that zxcvbn scores below
// MinScore. userInputs are words an attacker would try first (the
// username, the organisation's name); each also counts word by word, so
// "alice.smith@example.com" makes "alice" and "smith" guessable too. The
// error is a *PolicyError.
func (p Policy) Check(pw string, userInputs ...string) error {
	switch {
	case len(pw) < MinBytes:
		return &PolicyError{Reason: ErrTooShort,
			Message: fmt.Sprintf("The password is too short: use at least %d characters.", MinBytes)}
	case len(pw) > MaxBytes:
		return &PolicyError{Reason: ErrTooLong,
			Message: fmt.Sprintf("The password is too long: use at most %d bytes (%d letters and digits, fewer with accented or other non-ASCII characters).", MaxBytes, MaxBytes)}
	case !utf8.ValidString(pw):
		return &PolicyError{Reason: ErrNotText, Message: "The password is not valid text: it contains bytes that are not UTF-8."}
	case p.MinScore <= 0:
		return nil
	}
	words := inputWords(userInputs)
	r := zxcvbn.PasswordStrength(pw, words)
	if r.Score >= p.MinScore {
		return nil
	}
	msg := "The password is too easy to guess. " + hint
	if w := warning(r.Sequence, words); w != "" {
		msg = "The password is too easy to guess: " + w + ". " + hint
	}
	return &PolicyError{Reason: ErrTooGuessable, Message: msg, Score: r.Score}
}

// inputWords returns the inputs, lower-cased, as given and without their
// other characters ("example corp", "examplecorp"), and the words of at
// least three letters or digits in them.
func inputWords(inputs []string) []string {
	var out []string
	add := func(s string) {
		if s = strings.ToLower(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, in := range inputs {
		add(strings.TrimSpace(in))
		words := strings.FieldsFunc(in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		add(strings.Join(words, ""))
		for _, w := range words {
			if utf8.RuneCountInString(w) >= 3 {
				add(w)
			}
		}
	}
	return out
}

// warning says what makes a password guessable, from zxcvbn's matches (the
// library gives no feedback of its own; these follow zxcvbn's): a user
// input first (a word of the username or the organisation's name, found
// in any dictionary), else the longest match. "" when nothing stands out (a
// short password of random characters).
func warning(seq []*match.Match, inputs []string) string {
	var longest *match.Match
	for _, m := range seq {
		if m.Pattern == "dictionary" && (m.DictionaryName == "user_inputs" || slices.Contains(inputs, m.MatchedWord)) {
			return "it contains your username or the name of this service"
		}
		if longest == nil || len(m.Token) > len(longest.Token) {
			longest = m
		}
	}
	if longest == nil {
		return ""
	}
	sole := len(seq) == 1
	switch longest.Pattern {
	case "dictionary":
		return dictionaryWarning(longest, sole)
	case "spatial":
		if longest.Turns == 1 {
			return "straight rows of keys are easy to guess"
		}
		return "short keyboard patterns are easy to guess"
	case "repeat":
		if utf8.RuneCountInString(longest.BaseToken) == 1 {
			return `repeated characters like "aaa" are easy to guess`
		}
		return `repeated patterns like "abcabcabc" are only slightly harder to guess than "abc"`
	case "sequence":
		return "sequences like abc or 6543 are easy to guess"
	case "regex":
		if longest.RegexName == "recent_year" {
			return "recent years are easy to guess"
		}
	case "date":
		return "dates are easy to guess"
	}
	return ""
}

func dictionaryWarning(m *match.Match, sole bool) string {
	switch m.DictionaryName {
	case "passwords":
		switch {
		case !sole || m.L33t || m.Reversed:
			return "it is similar to a commonly used password"
		case m.Rank <= 10:
			return "it is one of the 10 most common passwords"
		case m.Rank <= 100:
			return "it is one of the 100 most common passwords"
		}
		return "it is a very common password"
	case "english_wikipedia", "us_tv_and_film":
		if sole {
			return "a single word is easy to guess"
		}
		return "common words are easy to guess"
	case "surnames", "male_names", "female_names":
		if sole {
			return "names and surnames by themselves are easy to guess"
		}
		return "common names and surnames are easy to guess"
	}
	return ""
}
