# archivist with its Dask extra: the image of the `scheduler`, `worker` and `archivist` services
# of docker-compose.yml (profile "dask"). Workers import this same archivist: the client checks
# that every worker runs its version before it sends a task.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY archive ./archive
COPY cli ./cli
COPY migrations ./migrations
RUN pip install --no-cache-dir ".[dask]" && rm -rf /src

WORKDIR /data
CMD ["archivist", "--help"]
