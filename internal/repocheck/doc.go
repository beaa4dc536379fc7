// Package repocheck holds tests of the repository as a whole: that every
// command has its man page where man finds it and its line in the README,
// and that the README's tables match the tree. It has no code of its own.
package repocheck
