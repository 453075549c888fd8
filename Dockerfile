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

# torch's CPU-only wheels (pip install torch==2.13.0 --index-url
# https://download.pytorch.org/whl/cpu) would make the image several GB smaller, but that index is
# not reachable from our build machines, so plain `pip install .` takes torch from PyPI. A shop
# building with internet access can add that line before the install below.
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY actions/ actions/
RUN pip install .

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
