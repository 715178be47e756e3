"""Streaming fraud decisions: transactions in through a message stream (Redis Streams or Kafka), decisions out.

A face, like ``niaga.serve``: it runs the fraud capability's real-time scorer (``niaga.fraud``) inside a
stream consumer and holds no business logic of its own. ``publish`` feeds transaction files into a stream,
split by customer id into partitions; ``consumer.run`` scores a partition set with one scorer per partition,
at least once with idempotent decisions (see ``consumer``). See docs/streaming.md.
"""
