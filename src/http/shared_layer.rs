//! A service held behind an `Arc`, so that a clone of it is a reference count.
//!
//! A middleware whose future must own the service it wraps clones that service for each
//! request (axum's `from_fn` does, as does each route, which is a boxed service), and a clone
//! of a service clones everything it wraps. The stack around each route (then fourteen
//! layers, eight of them `from_fn`, over routes that axum boxes) was so copied whole at each
//! `from_fn` and each route: 75 of an item get's 237 allocations, and 29,000 of its 200,000
//! instructions. Placed under a `from_fn` layer, [`SharedLayer`] makes that copy a reference
//! count; the layers below are copied when the request reaches them, once (a route twice).
//!
//! [`Shared`] is always ready and leaves readiness to the clone that takes the call, as a
//! route does: a layer above it that limits concurrency or sheds load would not see the
//! readiness of the services below.

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::util::Oneshot;
use tower::{Layer, Service, ServiceExt};

/// Wraps a service in [`Shared`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SharedLayer;

impl<S> Layer<S> for SharedLayer {
    type Service = Shared<S>;

    fn layer(&self, inner: S) -> Shared<S> {
        Shared(Arc::new(inner))
    }
}

/// A service shared by its clones; each call runs on a clone of its own, as a route does.
#[derive(Debug)]
pub struct Shared<S>(Arc<S>);

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S, R> Service<R> for Shared<S>
where
    S: Service<R> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Oneshot<S, R>;

    /// Always ready: readiness is the clone's, awaited by the call's future (see the module's
    /// notes).
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: R) -> Self::Future {
        S::clone(&self.0).oneshot(request)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::extract::Request;
    use axum::middleware::{Next, from_fn};
    use axum::response::Response;
    use tower::ServiceBuilder;

    use super::*;

    /// A service that counts its copies and answers with the mark a middleware left on the
    /// request (`none` without one).
    #[derive(Debug)]
    struct Counted {
        copies: Arc<AtomicUsize>,
    }

    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.copies.fetch_add(1, Ordering::Relaxed);
            Self {
                copies: Arc::clone(&self.copies),
            }
        }
    }

    impl Service<Request> for Counted {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request) -> Self::Future {
            let seen = request
                .extensions()
                .get::<&str>()
                .copied()
                .unwrap_or("none");
            std::future::ready(Ok(Response::new(Body::from(seen))))
        }
    }

    async fn mark(mut request: Request, next: Next) -> Response {
        request.extensions_mut().insert("marked");
        next.run(request).await
    }

    async fn pass(request: Request, next: Next) -> Response {
        next.run(request).await
    }

    /// Sends one request through `stack` and reads the answer.
    async fn send<S>(stack: &mut S) -> axum::body::Bytes
    where
        S: Service<Request, Response = Response, Error = Infallible>,
    {
        let request = Request::new(Body::empty());
        let response = stack.ready().await.unwrap().call(request).await.unwrap();
        axum::body::to_bytes(response.into_body(), 64)
            .await
            .unwrap()
    }

    fn counted() -> (Counted, Arc<AtomicUsize>) {
        let copies = Arc::new(AtomicUsize::new(0));
        let service = Counted {
            copies: Arc::clone(&copies),
        };
        (service, copies)
    }

    #[tokio::test]
    async fn the_service_under_a_stack_of_middlewares_is_copied_once_a_request() {
        let (service, copies) = counted();
        let mut stack = ServiceBuilder::new()
            .layer(from_fn(mark))
            .layer(SharedLayer)
            .layer(from_fn(pass))
            .layer(SharedLayer)
            .layer(from_fn(pass))
            .layer(SharedLayer)
            .service(service);
        for _ in 0..3 {
            // The request's extensions pass through, as the middlewares left them.
            assert_eq!(&send(&mut stack).await[..], b"marked");
        }
        assert_eq!(copies.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn without_it_each_middleware_copies_all_it_wraps() {
        let (service, copies) = counted();
        let mut stack = ServiceBuilder::new()
            .layer(from_fn(mark))
            .layer(from_fn(pass))
            .layer(from_fn(pass))
            .service(service);
        assert_eq!(&send(&mut stack).await[..], b"marked");
        // What the first test counts is the layer's doing.
        assert_eq!(copies.load(Ordering::Relaxed), 3);
    }
}
