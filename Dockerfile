# isp-aaa: one node (RADIUS workers, enforcer, admin API, /metrics) in one container.
# Build: docker build -t isp-aaa .   Run with compose.yaml (PostgreSQL and Redis beside it).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/isp-aaa
COPY pyproject.toml README.md LICENSE CHANGELOG.md ./
COPY aaa ./aaa
COPY admin_api ./admin_api
COPY billing_bridge ./billing_bridge
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /var/lib/aaa --create-home aaa

# Listen on every address of the container; the NASes reach it through the published ports.
ENV AAA_RADIUS__BIND=0.0.0.0 \
    AAA_API__BIND=0.0.0.0 \
    AAA_METRICS__BIND=0.0.0.0 \
    AAA_ACCOUNTING__SPOOL_DIR=/var/lib/aaa/spool
USER aaa
WORKDIR /var/lib/aaa
VOLUME ["/var/lib/aaa"]
EXPOSE 1812/udp 1813/udp 8080/tcp 9812/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9812/readyz', timeout=2)"
ENTRYPOINT ["aaa"]
CMD ["serve"]
