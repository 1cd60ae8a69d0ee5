package gcsbucket

import (
	"context"
	"errors"
	"io"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// putObject uploads data as the object name in one request (a multipart
// upload: ChunkSize 0 asks for no resumable session and no 16 MiB buffer).
// It has no precondition, so the library does not retry it.
// https://cloud.google.com/storage/docs/uploading-objects
func putObject(ctx context.Context, c *storage.Client, bucket, name string, data []byte) error {
	w := c.Bucket(bucket).Object(name).NewWriter(ctx)
	w.ChunkSize = 0
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

// getObject reads an object's data (over the XML API, the library's
// default for reads).
func getObject(ctx context.Context, c *storage.Client, bucket, name string) ([]byte, error) {
	r, err := c.Bucket(bucket).Object(name).NewReader(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// deleteObject deletes an object's live generation. A probe object's
// delete is retried like an idempotent call: a second delete of it finds
// nothing and changes nothing.
func deleteObject(ctx context.Context, c *storage.Client, bucket, name string) error {
	return c.Bucket(bucket).Object(name).Retryer(storage.WithPolicy(storage.RetryAlways)).Delete(ctx)
}

// listNames lists the names of the live objects under prefix.
func listNames(ctx context.Context, c *storage.Client, bucket, prefix string) ([]string, error) {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return nil, err
	}
	var names []string
	it := c.Bucket(bucket).Objects(ctx, q)
	for {
		o, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names, nil
		}
		if err != nil {
			return nil, err
		}
		names = append(names, o.Name)
	}
}
