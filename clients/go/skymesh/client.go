// Package skymesh is a Go client of the skymesh mesh: the gRPC services generated from proto/
// (package gen/...), reached through the Envoy gateway (one address for every service), with
// the caller's token sent on every call and helpers for the Kowalski-style JSON answers.
package skymesh

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	archivev1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/archive/v1"
	brokerv1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/broker/v1"
	filtersv1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/filters/v1"
	mlv1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/ml/v1"
	portalv1 "github.com/skymesh/skymesh/clients/go/gen/skymesh/portal/v1"
)

// Client holds one connection to the gateway and a stub per service.
type Client struct {
	conn *grpc.ClientConn

	mu    sync.RWMutex
	token string

	Archive archivev1.ArchiveServiceClient
	Filters filtersv1.FiltersServiceClient
	Portal  portalv1.PortalServiceClient
	ML      mlv1.MLServiceClient
	Broker  brokerv1.BrokerServiceClient
}

type options struct {
	creds credentials.TransportCredentials
	token string
	dial  []grpc.DialOption
}

// Option configures Dial.
type Option func(*options)

// WithTLS connects with TLS (a gateway behind a certificate); the default is plaintext
// HTTP/2, as the gateway listens on loopback in local runs.
func WithTLS(creds credentials.TransportCredentials) Option {
	return func(o *options) { o.creds = creds }
}

// WithToken authenticates every call with an existing token (a JWT from Login, or a
// SkyPortal API token) instead of logging in.
func WithToken(token string) Option {
	return func(o *options) { o.token = token }
}

// WithDialOptions passes further options to grpc.NewClient.
func WithDialOptions(dial ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, dial...) }
}

// Dial makes a client of the gateway at target ("host:port"). It does not connect until the
// first call.
func Dial(target string, opts ...Option) (*Client, error) {
	o := options{creds: insecure.NewCredentials()}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{token: o.token}
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(o.creds),
		grpc.WithUnaryInterceptor(c.authorizeUnary),
		grpc.WithStreamInterceptor(c.authorizeStream),
	}, o.dial...)
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		return nil, fmt.Errorf("skymesh: dial %s: %w", target, err)
	}
	c.conn = conn
	c.Archive = archivev1.NewArchiveServiceClient(conn)
	c.Filters = filtersv1.NewFiltersServiceClient(conn)
	c.Portal = portalv1.NewPortalServiceClient(conn)
	c.ML = mlv1.NewMLServiceClient(conn)
	c.Broker = brokerv1.NewBrokerServiceClient(conn)
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Token is the credential sent with each call ("" before Login or WithToken).
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// Login exchanges a username and password for a JWT (Kowalski's POST /api/auth) and sends it
// with every later call.
func (c *Client) Login(ctx context.Context, username, password string) error {
	answer, err := c.Portal.Auth(ctx, &portalv1.AuthRequest{Username: username, Password: password})
	if err != nil {
		return fmt.Errorf("skymesh: login as %s: %w", username, err)
	}
	if answer.GetToken() == "" {
		return errors.New("skymesh: login answered without a token")
	}
	c.mu.Lock()
	c.token = answer.GetToken()
	c.mu.Unlock()
	return nil
}

func (c *Client) withToken(ctx context.Context) context.Context {
	if token := c.Token(); token != "" {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	return ctx
}

func (c *Client) authorizeUnary(
	ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
) error {
	return invoker(c.withToken(ctx), method, req, reply, cc, opts...)
}

func (c *Client) authorizeStream(
	ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
	streamer grpc.Streamer, opts ...grpc.CallOption,
) (grpc.ClientStream, error) {
	return streamer(c.withToken(ctx), desc, cc, method, opts...)
}
