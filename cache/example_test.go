package cache_test

import (
	"context"
	"fmt"

	"github.com/aligngate/aligngate/cache"
)

func ExampleCache_Do() {
	// Memory only; set RedisURL to share corrections between replicas.
	c, err := cache.New(cache.Config{}, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	correct := func(context.Context) (string, error) { return "The corrected answer.", nil }
	key := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" // digest built by the caller
	for range 2 {
		text, outcome, err := c.Do(context.Background(), key, "aligner-2b", correct)
		fmt.Println(text, outcome, err)
	}
	// A sampled request (the caller decides which) skips the cache.
	_, outcome, _ := c.Bypass(context.Background(), correct)
	fmt.Println(outcome)
	// Output:
	// The corrected answer. miss <nil>
	// The corrected answer. hit <nil>
	// bypass
}
