package pwpolicy

import "strings"

// IsCommon reports whether password, ignoring case, is one of a small list
// of the most used passwords. Okta does not publish the dictionary behind
// dictionary.common.exclude, so this is an approximation: about a hundred
// of the passwords that head the public lists of leaked passwords (NCSC's
// "100,000 most commonly re-used passwords",
// https://www.ncsc.gov.uk/static-assets/documents/PwnedPasswordsTop100k.txt),
// plus "welcome", "letmein" and season-and-year patterns that a usual
// policy's length and character rules let through. A password it misses may
// still be in Okta's list; the check makes no network call.
func IsCommon(password string) bool {
	_, ok := common[strings.ToLower(password)]
	return ok
}

var common = func() map[string]struct{} {
	m := make(map[string]struct{}, len(commonList))
	for _, p := range commonList {
		m[p] = struct{}{}
	}
	return m
}()

// commonList is lower-case.
var commonList = []string{
	"123456", "123456789", "qwerty", "password", "111111", "12345678", "abc123", "1234567", "password1", "12345",
	"1234567890", "123123", "000000", "iloveyou", "1234", "1q2w3e4r5t", "qwertyuiop", "123", "monkey", "dragon",
	"123456a", "654321", "123321", "666666", "1qaz2wsx", "myspace1", "121212", "123qwe", "a123456",
	"123abc", "1q2w3e4r", "qwe123", "7777777", "qwerty123", "target123", "987654321", "qwerty1", "222222",
	"zxcvbnm", "555555", "fuckyou", "112233", "asdfghjkl", "1q2w3e",
	"123123123", "qazwsx", "computer", "princess", "12345a", "ashley", "159753", "michael", "football", "sunshine",
	"1234qwer", "iloveyou1", "aaaaaa", "fuckyou1", "789456123", "daniel", "777777", "princess1", "123654", "11111",
	"asdfgh", "999999", "11111111", "888888", "love", "abcd1234", "shadow", "football1", "love123",
	"superman", "jordan23", "jessica", "monkey1", "12qwaszx", "a12345", "baseball", "123456789a", "killer", "asdf",
	"samsung", "master", "azerty", "charlie", "asd123", "soccer", "88888888", "jordan", "michael1",
	"welcome", "welcome1", "letmein", "trustno1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "admin",
	"admin123", "changeme", "qwerty12", "summer2024", "winter2024", "spring2024", "autumn2024", "summer2025",
	"winter2025", "spring2025", "autumn2025", "password1!", "welcome123", "welcome2024", "welcome2025", "letmein1",
}
